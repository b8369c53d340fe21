// hippodex memory viewer: vanilla JS, talks only to this server's own /v1 routes.
// Every piece of data goes into the page through textContent, never as markup.
"use strict";

(function () {
  const KEY_STORE = "hippodex.apiKey";
  const USER_STORE = "hippodex.userId";
  const PAGE = 50;

  const $ = (id) => document.getElementById(id);
  const keyInput = $("api-key");
  const userInput = $("user-id");
  const status = $("status");

  let episodesSession = null;
  let episodesOffset = 0;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function say(message, isError) {
    status.textContent = message || "";
    status.classList.toggle("error", Boolean(isError));
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function headers(json) {
    const h = {};
    const key = keyInput.value.trim();
    if (key) h["Authorization"] = "Bearer " + key;
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) {
      const msg = data && data.error ? data.error.code + ": " + data.error.message : "HTTP " + response.status;
      throw new Error(msg);
    }
    return data;
  }

  function userId() {
    const u = userInput.value.trim();
    if (!u) throw new Error("enter a user id first");
    return u;
  }

  function episodeCard(ep, extra) {
    const li = el("li", "card episode");
    const meta = el("div", "meta");
    meta.append(el("span", "role", ep.speaker ? ep.speaker + " (" + ep.role + ")" : ep.role));
    const time = el("time", "date", when(ep.occurred_at));
    time.dateTime = ep.occurred_at;
    meta.append(time);
    meta.append(el("span", "session", "session " + ep.session_id + " · #" + ep.seq));
    if (extra && extra.score !== undefined) meta.append(el("span", "score", "score " + extra.score.toFixed(4)));
    li.append(meta);
    li.append(el("p", "content", ep.content));
    if (extra && extra.channels) {
      const parts = Object.entries(extra.channels)
        .sort((a, b) => a[1].rank - b[1].rank)
        .map(([name, c]) => name + " #" + c.rank);
      li.append(el("div", "channels", parts.length ? parts.join(" · ") : "no channel ranks"));
    }
    if (extra && extra.context && extra.context.length) {
      const ctx = el("div", "context");
      for (const c of extra.context) ctx.append(el("div", null, (c.speaker || c.role) + ": " + c.content));
      li.append(ctx);
    }
    return li;
  }

  async function search(event) {
    event.preventDefault();
    const list = $("results");
    try {
      const body = { user_id: userId(), query: $("query").value.trim(), k: Number($("k").value) || 10 };
      if (!body.query) return;
      say("Searching…");
      const data = await call("POST", "v1/search", body);
      list.replaceChildren();
      for (const hit of data.hits) list.append(episodeCard(hit.episode, hit));
      if (!data.hits.length) list.append(el("li", "empty", "No hits."));
      $("hit-count").textContent = "(" + data.hits.length + ")";
      $("results-section").hidden = false;
      say("");
    } catch (err) {
      say(err.message, true);
    }
  }

  const SESSION_PAGE = 200;
  let sessionsUid = null;
  let sessionsOffset = null;

  // Sessions come a page at a time, most recent first; "More sessions" fetches the next page.
  async function loadSessions(fresh) {
    const list = $("sessions");
    try {
      if (fresh !== false) { sessionsUid = userId(); sessionsOffset = 0; list.replaceChildren(); }
      const uid = sessionsUid;
      say("Loading sessions…");
      const q = new URLSearchParams({ limit: String(SESSION_PAGE), offset: String(sessionsOffset) });
      const data = await call("GET", "v1/users/" + encodeURIComponent(uid) + "/sessions?" + q.toString());
      for (const s of data.sessions) {
        const li = el("li", "session");
        const btn = el("button", "session-btn");
        btn.type = "button";
        btn.append(el("span", "sid", s.id));
        const span = when(s.started_at) === when(s.ended_at) ? when(s.started_at) : when(s.started_at) + " → " + when(s.ended_at);
        btn.append(el("span", "when", span));
        btn.append(el("span", "when", s.episodes + (s.episodes === 1 ? " episode" : " episodes")));
        btn.addEventListener("click", () => {
          for (const other of list.children) other.classList.remove("active");
          li.classList.add("active");
          openSession(uid, s.id, true);
        });
        li.append(btn);
        list.append(li);
      }
      if (!list.children.length) list.append(el("li", "empty", "No sessions for this user."));
      const more = data.sessions.length === SESSION_PAGE;
      sessionsOffset = more ? sessionsOffset + SESSION_PAGE : null;
      const shown = list.querySelectorAll("li.session").length;
      $("session-count").textContent = "(" + shown + (more ? "+" : "") + ")";
      $("more-sessions").hidden = !more;
      $("sessions-section").hidden = false;
      if (fresh !== false) $("episodes-pane").hidden = true;
      say("");
    } catch (err) {
      say(err.message, true);
    }
  }

  async function openSession(uid, sessionId, fresh) {
    const list = $("episodes");
    try {
      if (fresh) { episodesSession = { uid, sessionId }; episodesOffset = 0; list.replaceChildren(); }
      const q = new URLSearchParams({ user_id: uid, session_id: sessionId, limit: String(PAGE), offset: String(episodesOffset) });
      const page = await call("GET", "v1/memories?" + q.toString());
      for (const ep of page.items) list.append(episodeCard(ep));
      $("episodes-title").textContent = "Session " + sessionId + " · " + page.total + " episodes";
      $("episodes-pane").hidden = false;
      episodesOffset = page.next_offset === null ? null : page.next_offset;
      $("more-episodes").hidden = episodesOffset === null;
      say("");
    } catch (err) {
      say(err.message, true);
    }
  }

  async function loadKeyUsers() {
    const datalist = $("user-ids");
    datalist.replaceChildren();
    if (!keyInput.value.trim()) return;
    try {
      const info = await call("GET", "web/key");
      for (const u of info.user_ids) {
        const opt = document.createElement("option");
        opt.value = u;
        datalist.append(opt);
      }
      if (!userInput.value && info.user_ids.length === 1) {
        userInput.value = info.user_ids[0];
        sessionStorage.setItem(USER_STORE, userInput.value);
      }
    } catch (_) {
      // an unknown key: the /v1 calls will say so when used
    }
  }

  keyInput.value = sessionStorage.getItem(KEY_STORE) || "";
  userInput.value = sessionStorage.getItem(USER_STORE) || "";
  keyInput.addEventListener("input", () => sessionStorage.setItem(KEY_STORE, keyInput.value.trim()));
  keyInput.addEventListener("change", loadKeyUsers);
  userInput.addEventListener("input", () => sessionStorage.setItem(USER_STORE, userInput.value.trim()));
  $("search-form").addEventListener("submit", search);
  $("load-sessions").addEventListener("click", () => loadSessions(true));
  $("more-sessions").addEventListener("click", () => {
    if (sessionsUid !== null && sessionsOffset !== null) loadSessions(false);
  });
  $("more-episodes").addEventListener("click", () => {
    if (episodesSession && episodesOffset !== null) openSession(episodesSession.uid, episodesSession.sessionId, false);
  });
  loadKeyUsers();
})();
