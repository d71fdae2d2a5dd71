import { setupReception } from "./reception.js";

// The lecture room client: one WebSocket per tab, reconnecting with back-off and
// resuming the chat from the last id seen, so every message shows once, in order.
// User text is only ever set with textContent.

const root = document.getElementById("lecture");
const t = JSON.parse(document.getElementById("lecture-i18n").textContent);
const $ = (sel) => root.querySelector(sel);
const state = {
  ws: null, attempt: 0, you: null, room: null, rooms: [], lastId: 0, oldest: null,
  messages: new Map(), questions: new Map(), stage: null, closedForGood: false, pdf: null, pdfUrl: "",
  actions: new Set(),  // the message types this person may send (hello.actions): the console offers only those
};
const CONSOLE = root.classList.contains("is-console");
const CHAT_HINT = $("[data-chat-input]").placeholder;
const reception = setupReception({ root, t, send, state, switchRoom: (room, messages) => switchRoom(room, messages) });

// ---- connection ------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // Coming back (after a first hello): say where the chat stopped, and the hello brings just what was
  // missed instead of the last 50 messages the page already shows (docs/protocol.md, "Reconnecting").
  // A page that shows no message of its room (none yet, or back in the lobby) takes the last 50 as before:
  // "after 0" would bring the room's whole chat from its first message.
  const resume = state.you !== null && state.room && state.lastId > 0
    ? `?room=${state.room.id}&after=${state.lastId}` : "";
  const ws = new WebSocket(`${scheme}://${location.host}${root.dataset.ws}${resume}`);
  state.ws = ws;
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = (event) => {
    // These codes mean reconnecting cannot help (docs/protocol.md, "Close codes"): say why and stop.
    if (state.closedForGood || FINAL_CLOSE_CODES.includes(event.code)) {
      state.closedForGood = true;
      const why = t[`closed_${event.code}`];
      setConn(why ? t.disconnected : "");
      if (why) showClosed(why);
      return;
    }
    setConn(t.reconnecting);
    // 1 s, 2 s, 4 s … up to 30 s, with jitter so thousands of tabs do not return at once.
    const delay = Math.min(30000, 1000 * 2 ** state.attempt) * (0.5 + Math.random() / 2);
    state.attempt += 1;
    setTimeout(connect, delay);
  };
}

// What the page asks for by itself, not an action of the person: it leaves their last error alone.
const BACKGROUND = new Set(["resume", "chat.history", "reception.rooms"]);

const FINAL_CLOSE_CODES = [4000, 4401, 4403, 4410, 4411, 4412, 4413, 4414, 4415];

// The page stays readable, but nothing can be sent any more.
function showClosed(why) {
  const banner = $("[data-closed]");
  banner.textContent = why;
  banner.hidden = false;
  $("[data-presence]").textContent = ""; // no longer counted, nor told who is here
  root.querySelectorAll("form input, form button, [data-reactions] button").forEach((el) => { el.disabled = true; });
}

function send(frame) {
  // A new action clears the last refusal; if this one is refused too, its error takes the place.
  if (!BACKGROUND.has(frame.type)) hideError();
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame));
}

function setConn(text) { $("[data-conn]").textContent = text; }

function handle(frame) {
  if (reception.handle(frame)) return;
  switch (frame.type) {
    case "batch": frame.messages.forEach(handle); break;
    case "hello": onHello(frame); break;
    case "chat.message": addMessage(frame); break;
    case "resume": frame.messages.forEach(addMessage); break;
    case "chat.history": prependHistory(frame.messages); break;
    case "chat.deleted": removeMessage(frame.id); break;
    case "question": upsertQuestion(frame); break;
    case "stage": onStage(frame); break;
    case "presence": onPresence(frame); break;
    case "reactions": onReactions(frame.counts); break;
    case "room.viewing": switchRoom(frame.room, frame.messages); break;
    case "error": showError(frame.message); break;
    default: break;
  }
}

function onHello(frame) {
  const reconnect = state.you !== null && state.room && state.room.id === frame.room.id;
  // The server took up where the page's chat stopped (connect()): the messages are all that came after it.
  const resumed = reconnect && frame.after !== undefined;
  state.attempt = 0;
  state.you = frame.you;
  state.actions = new Set(frame.actions);
  state.rooms = frame.rooms;
  setConn(t.connected);
  if (!reconnect) {
    state.room = frame.room;
    clearMessages();
  }
  $("[data-room-name]").textContent = root.dataset.lang === "en" ? frame.room.name_en : frame.room.name;
  // A resumed hello holds every message after its `after` that still exists: an id missing there was
  // deleted, not missed, so it is no gap to ask about.
  frame.messages.forEach((m) => showMessage(m, !resumed));
  // Whatever arrived while we were away: beyond the history of an ordinary hello, or beyond the
  // 500 messages a resumed one holds at most (then `complete` is false).
  if (resumed ? frame.complete === false : reconnect) send({ type: "resume", after: state.lastId });
  frame.questions.forEach(upsertQuestion);
  onStage(frame.stage);
  renderReactionButtons(frame.reactions);
  if (CONSOLE) fillRoomSelect();
  reception.remember(frame.reception);
  reception.onHello(frame);
  // The talk's current figures come with the hello (the relay sends presence only when it changes).
  if (frame.presence) onPresence(frame.presence);
}

// ---- chat ------------------------------------------------------------------

function clearMessages() {
  state.messages.clear();
  state.lastId = 0;
  state.oldest = null;
  $("[data-messages]").replaceChildren();
}

function authorLine(author) {
  // A physician who had their data deleted: only the placeholder, in the page's language.
  if (author.deleted) return t.deleted_user;
  const parts = [author.name];
  if (author.role && author.role !== "attendee") parts.push(t[author.role] || author.role);
  if (author.facility_type) parts.push(t[author.facility_type] || author.facility_type);
  const pref = root.dataset.lang === "en" ? author.prefecture_name_en : author.prefecture_name;
  if (pref) parts.push(pref);
  return parts.join(" · ");
}

function messageItem(m) {
  const li = document.createElement("li");
  li.dataset.id = m.id;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = authorLine(m.author);
  const time = document.createElement("time");
  time.dateTime = m.sent_at;
  time.textContent = m.sent_at.slice(11, 16);
  const body = document.createElement("p");
  body.className = "body";
  body.textContent = m.body;
  li.append(who, time, body);
  if (CONSOLE && state.actions.has("chat.delete")) {
    const del = document.createElement("button");
    del.type = "button"; del.className = "mini"; del.textContent = t.delete;
    del.onclick = () => send({ type: "chat.delete", id: m.id, room: m.room });
    li.append(del);
  }
  if (CONSOLE && state.actions.has("chat.mute") && m.author.registration) {
    const mute = document.createElement("button");
    mute.type = "button"; mute.className = "mini"; mute.textContent = t.mute;
    mute.onclick = () => send({ type: "chat.mute", registration: m.author.registration, minutes: 10 });
    li.append(mute);
  }
  if (CONSOLE && state.actions.has("person.remove") && m.author.registration) {
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "mini"; remove.textContent = t.remove;
    remove.onclick = () => {
      if (window.confirm(t.remove_confirm)) send({ type: "person.remove", registration: m.author.registration });
    };
    li.append(remove);
  }
  return li;
}

function addMessage(m) {
  showMessage(m, true);
}

// checkGap: a message beyond the next id means some were missed: ask for them.
function showMessage(m, checkGap) {
  if (state.room && m.room !== state.room.id) return;
  if (state.messages.has(m.id)) return; // resume and live delivery may overlap: show once
  if (checkGap && state.lastId && m.id > state.lastId + 1) send({ type: "resume", after: state.lastId });
  const list = $("[data-messages]");
  const item = messageItem(m);
  state.messages.set(m.id, item);
  // Insert in id order, whatever order frames arrived in.
  let after = null;
  for (const child of list.children) { if (Number(child.dataset.id) > m.id) { after = child; break; } }
  const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
  list.insertBefore(item, after);
  state.lastId = Math.max(state.lastId, m.id);
  state.oldest = state.oldest === null ? m.id : Math.min(state.oldest, m.id);
  $("[data-older]").hidden = state.oldest <= 1;
  if (stick) list.scrollTop = list.scrollHeight;
}

function prependHistory(messages) {
  messages.forEach(addMessage);
}

function removeMessage(id) {
  const item = state.messages.get(id);
  if (item) item.remove();
}

function switchRoom(room, messages) {
  state.room = room;
  clearMessages();
  $("[data-room-name]").textContent = root.dataset.lang === "en" ? room.name_en : room.name;
  messages.forEach(addMessage);
}

$("[data-chat-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("[data-chat-input]");
  const body = input.value.trim();
  if (!body) return;
  send({ type: "chat.send", body, client_id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}` });
  input.value = "";
});

$("[data-older]").addEventListener("click", () => send({ type: "chat.history", before: state.oldest }));
$("[data-messages]").addEventListener("scroll", (event) => {
  if (event.target.scrollTop === 0 && state.oldest > 1) send({ type: "chat.history", before: state.oldest });
});

// ---- Q&A ---------------------------------------------------------------------

function upsertQuestion(q) {
  state.questions.set(q.id, q);
  const list = $("[data-questions]");
  const sorted = [...state.questions.values()].sort((a, b) => b.votes - a.votes || a.id - b.id);
  list.replaceChildren(...sorted.map(questionItem));
  $("[data-qa-count]").textContent = `(${state.questions.size})`;
}

function questionItem(q) {
  const li = document.createElement("li");
  li.dataset.id = q.id;
  if (q.answered) li.classList.add("answered");
  const body = document.createElement("p");
  body.textContent = q.body;
  const meta = document.createElement("span");
  meta.className = "who";
  const roomName = root.dataset.lang === "en" ? q.author.room_name_en : q.author.room_name;
  meta.textContent = `${q.author.deleted ? t.deleted_user : q.author.name}${roomName ? ` · ${roomName}` : ""}${q.answered ? ` · ${t.answered}` : ""}`;
  const vote = document.createElement("button");
  vote.type = "button"; vote.className = "mini vote"; vote.textContent = `▲ ${q.votes}`;
  vote.title = t.vote;
  vote.onclick = () => send({ type: "question.upvote", id: q.id });
  li.append(vote, body, meta);
  if (CONSOLE && state.actions.has("question.answer") && !q.answered) {
    const done = document.createElement("button");
    done.type = "button"; done.className = "mini"; done.textContent = t.mark_answered;
    done.onclick = () => send({ type: "question.answer", id: q.id });
    li.append(done);
  }
  return li;
}

$("[data-question-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("[data-question-input]");
  const body = input.value.trim();
  if (body) send({ type: "question.ask", body });
  input.value = "";
});

// ---- tabs (phone) ----------------------------------------------------------------

root.querySelectorAll("[data-tab]").forEach((tab) => {
  tab.addEventListener("click", () => {
    root.querySelectorAll("[data-tab]").forEach((other) => other.setAttribute("aria-selected", String(other === tab)));
    root.querySelectorAll("[data-panel]").forEach((panel) => { panel.hidden = panel.dataset.panel !== tab.dataset.tab; });
  });
});

// ---- stage: stream, slides, countdown ------------------------------------------------

function onStage(stage) {
  state.stage = stage;
  $("[data-before]").hidden = stage.state !== "scheduled";
  $("[data-after]").hidden = stage.state !== "ended";
  $("[data-chat-input]").disabled = !stage.chat_open && !CONSOLE;
  // Open: what the box is for (the page's own hint); closed: why it cannot be used.
  $("[data-chat-input]").placeholder = stage.chat_open ? CHAT_HINT : t.chat_closed;
  const pinned = $("[data-pinned]");
  pinned.hidden = !stage.pinned;
  pinned.textContent = stage.pinned;
  if (stage.state === "live") startStream();
  const url = stage.slides_url ? `${stage.slides_url}?v=${stage.slides_version}` : root.dataset.previewSlides;
  showSlide(url, stage.slide, stage.slide_count);
  if (CONSOLE) {
    // The page has only the controls this role may use (see the template): set those that are there.
    const toggle = root.querySelector('[data-action="chat-toggle"]');
    if (toggle) toggle.textContent = stage.chat_open ? t.close_chat : t.open_chat;
    // Only what can still happen: live once, then end; an ended talk stays ended.
    const live = root.querySelector('[data-action="live"]');
    if (live) live.hidden = stage.state !== "scheduled";
    const end = root.querySelector('[data-action="end"]');
    if (end) end.hidden = stage.state === "ended";
  }
}

let streamStarted = false;
function startStream() {
  if (streamStarted || !root.dataset.streamUrl) return;
  streamStarted = true;
  const url = root.dataset.streamUrl;
  const box = $("[data-stream]");
  const embed = embedUrl(url);
  if (embed) {
    const frame = document.createElement("iframe");
    frame.src = embed;
    frame.allow = "autoplay; fullscreen; picture-in-picture";
    frame.allowFullscreen = true;
    box.replaceChildren(frame);
    return;
  }
  const video = document.createElement("video");
  video.controls = true; video.playsInline = true; video.autoplay = true; video.muted = true;
  // A recording, or the demo's ten-second clip, starts again instead of ending in black.
  video.loop = true;
  const status = document.createElement("p");
  status.className = "stream-status"; status.setAttribute("role", "status"); status.hidden = true;
  box.replaceChildren(video, status);
  const player = { url, video, status, attempt: 0, retry: 0, recovered: false };
  video.addEventListener("playing", () => { player.attempt = 0; player.recovered = false; status.hidden = true; });
  if (url.includes(".m3u8") && !video.canPlayType("application/vnd.apple.mpegurl")) {
    const script = document.createElement("script");
    script.src = root.dataset.hls;
    script.onload = () => playHls(player);
    document.head.append(script);
  } else {
    // The browser plays it itself (a file, or Safari's own HLS): on an error, set the source again.
    video.addEventListener("error", () => streamFailed(player, () => { video.src = url; }));
    video.src = url;
  }
}

function playHls(player) {
  const Hls = window.Hls;
  if (!Hls || !Hls.isSupported()) { player.video.src = player.url; return; }
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_name, data) => {
    if (!data.fatal) return;  // hls.js retries those itself
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !player.recovered) {
      player.recovered = true;
      hls.recoverMediaError();
      return;
    }
    // The stream is unreachable or broke off: start over, playlist first.
    hls.destroy();
    streamFailed(player, () => playHls(player));
  });
  hls.loadSource(player.url);
  hls.attachMedia(player.video);
}

// Say in words why the picture is black, and try again (2, 4, 8 s, then every 15 s)
// until it plays, which clears the message; not once the talk has ended.
function streamFailed(player, again) {
  player.status.textContent = $("[data-stream]").dataset.streamFailed;
  player.status.hidden = false;
  clearTimeout(player.retry);
  const delay = Math.min(15000, 2000 * 2 ** player.attempt);
  player.attempt += 1;
  player.retry = setTimeout(() => { if (state.stage?.state !== "ended") again(); }, delay);
}

function embedUrl(url) {
  let m = url.match(/(?:youtube\.com\/(?:watch\?v=|live\/|embed\/)|youtu\.be\/)([\w-]{6,})/);
  if (m) return `https://www.youtube-nocookie.com/embed/${m[1]}?autoplay=1`;
  m = url.match(/vimeo\.com\/(?:event\/)?(\d+)/);
  if (m) return `https://player.vimeo.com/video/${m[1]}?autoplay=1`;
  return null;
}

let rendering = Promise.resolve();
function showSlide(url, page, count) {
  const caption = $("[data-slide-caption]");
  caption.textContent = count ? `${t.slide} ${page} / ${count}` : "";
  root.dataset.slide = String(page);
  // A talk without (approved) slides shows nothing there rather than an empty box.
  const figure = $("[data-slide-figure]");
  figure.hidden = !url;
  if (!url) return;
  rendering = rendering.then(() => renderPage(url, page)).catch(() => { figure.hidden = true; });
}

async function renderPage(url, page) {
  const pdfjs = await import(root.dataset.pdfjs);
  pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.pdfjsWorker;
  if (state.pdfUrl !== url) {
    state.pdf = await pdfjs.getDocument({ url, withCredentials: true }).promise;
    state.pdfUrl = url;
  }
  const pdfPage = await state.pdf.getPage(Math.min(page, state.pdf.numPages));
  const canvas = $("[data-slide-canvas]");
  const width = canvas.parentElement.clientWidth || 640;
  const viewport = pdfPage.getViewport({ scale: 1 });
  const scaled = pdfPage.getViewport({ scale: (width / viewport.width) * (window.devicePixelRatio || 1) });
  canvas.width = scaled.width; canvas.height = scaled.height;
  canvas.style.width = "100%";
  await pdfPage.render({ canvasContext: canvas.getContext("2d"), viewport: scaled }).promise;
  canvas.dataset.renderedPage = String(page);
}

function countdown() {
  const out = $("[data-countdown-out]");
  const tick = () => {
    let s = Math.max(0, Math.floor((Date.parse(root.dataset.startsAt) - Date.now()) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const pad = (n) => String(n).padStart(2, "0");
    out.textContent = `${d ? `${d} ${t.days} ` : ""}${pad(h)}:${pad(m)}:${pad(s)}`;
  };
  tick();
  setInterval(tick, 1000);
}

// ---- presence and reactions ----------------------------------------------------

function onPresence(p) {
  // At a reception table the members list says who is here; presence gives the talk's total.
  const atTable = state.room && state.room.kind === "social";
  const here = atTable ? (state.tableSize || 0) : state.room ? (p.rooms[String(state.room.id)] || 0) : p.total;
  const el = $("[data-presence]");
  // English counts one person; Japanese reads the same either way.
  el.textContent = `${here} ${here === 1 ? t.person : t.people}` + (p.total !== here ? ` / ${t.rooms_total} ${p.total}` : "");
  el.title = Object.entries(p.by_prefecture).map(([code, n]) => `${code}: ${n}`).join("\n");
  el.dataset.regions = JSON.stringify(p.by_region);
  if (CONSOLE && $("[data-room-totals]")) {
    const names = Object.fromEntries(state.rooms.map((r) => [String(r.id), r.name]));
    $("[data-room-totals]").textContent = Object.entries(p.rooms).map(([id, n]) => `${names[id] || id}: ${n}`).join(" / ");
  }
}

function renderReactionButtons(emojis) {
  const box = $("[data-reactions]");
  if (box.childElementCount) return;
  emojis.forEach((emoji) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = "reaction"; b.textContent = emoji; b.dataset.emoji = emoji;
    b.onclick = () => send({ type: "reaction.send", emoji });
    const count = document.createElement("span");
    count.className = "count";
    b.append(count);
    box.append(b);
  });
}

function onReactions(counts) {
  Object.entries(counts).forEach(([emoji, n]) => {
    const b = root.querySelector(`.reaction[data-emoji="${CSS.escape(emoji)}"]`);
    if (!b) return;
    const count = b.querySelector(".count");
    count.textContent = `+${n}`;
    b.classList.remove("pop"); void b.offsetWidth; b.classList.add("pop");
    setTimeout(() => { count.textContent = ""; }, 2500);
  });
}

// ---- console -------------------------------------------------------------------

function fillRoomSelect() {
  const select = $("[data-room-select]");
  if (!select) return;
  select.replaceChildren(...state.rooms.map((r) => {
    const o = document.createElement("option");
    o.value = r.id; o.textContent = root.dataset.lang === "en" ? r.name_en : r.name;
    o.selected = state.room && r.id === state.room.id;
    return o;
  }));
}

if (CONSOLE) {
  // A control the role may not use is not on the page: nothing to wire then.
  const act = (name, fn) => root.querySelector(`[data-action="${name}"]`)?.addEventListener("click", fn);
  act("slide-prev", () => send({ type: "slide.set", slide: Math.max(1, (state.stage?.slide || 1) - 1) }));
  act("slide-next", () => send({ type: "slide.set", slide: (state.stage?.slide || 1) + 1 }));
  act("live", () => send({ type: "stage.live" }));
  act("end", () => send({ type: "stage.end" }));
  act("chat-toggle", () => send({ type: state.stage?.chat_open ? "chat.close" : "chat.open" }));
  $("[data-room-select]")?.addEventListener("change", (e) => send({ type: "room.view", room: Number(e.target.value) }));
  $("[data-pin-form]")?.addEventListener("submit", (e) => { e.preventDefault(); send({ type: "announcement.pin", body: $("[data-pin-input]").value }); });
  // The styled file button: show the chosen file's name in the page's language, not the browser's.
  const file = $("[data-file-input]");
  file?.addEventListener("change", () => {
    const name = $("[data-file-name]");
    name.textContent = file.files.length ? file.files[0].name : name.dataset.none;
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, textarea")) return;
    if (e.key === "ArrowRight" || e.key === "PageDown") send({ type: "slide.set", slide: (state.stage?.slide || 1) + 1 });
    if (e.key === "ArrowLeft" || e.key === "PageUp") send({ type: "slide.set", slide: Math.max(1, (state.stage?.slide || 1) - 1) });
  });
}

function hideError() {
  clearTimeout(showError.timer);
  $("[data-error]").hidden = true;
}

function showError(message) {
  const el = $("[data-error]");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { el.hidden = true; }, 5000);
}

countdown();
connect();
