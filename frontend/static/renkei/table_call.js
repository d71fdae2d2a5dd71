// Voice and video at a reception table, through Janus's VideoRoom (janus.js, vendored, a classic script
// loaded on demand). One call at a time: entering a table hangs up the last one.
// - A tile per member of the table, labelled from Renkei's members list (name, prefecture: text), matched by
//   feed = registration id, never from Janus's display field.
// - Mic and camera start off; the browser asks for a device only when the physician turns it on.
// - Video is sent small (320x240, 15 fps, 200 kbps): twelve of them fit a clinic's upload.
// - If Janus is unreachable or the browser refuses a device, the table stays a text table: a message and a retry.

const VIDEO = { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15, max: 15 } };
const VIDEO_BITRATE = 200000;

let loading = null;
function loadJanus(root) {
  // adapter first (janus.js expects its global), then janus.js; both classic scripts, loaded once.
  if (window.Janus) return Promise.resolve(window.Janus);
  if (!loading) {
    const script = (src) => new Promise((resolve, reject) => {
      const el = document.createElement("script");
      el.src = src; el.onload = resolve; el.onerror = reject;
      document.head.append(el);
    });
    loading = script(root.dataset.adapter).then(() => script(root.dataset.janus)).then(() => new Promise((resolve) => {
      window.Janus.init({ debug: false, dependencies: window.Janus.useDefaultDependencies(), callback: () => resolve(window.Janus) });
    }));
    loading.catch(() => { loading = null; });
  }
  return loading;
}

export function setupTableCall({ root, t, send, state }) {
  const $ = (sel) => root.querySelector(sel);
  const panel = $("[data-call]");
  if (!panel) return null;
  const en = root.dataset.lang === "en";
  const tiles = $("[data-call-tiles]");
  const note = $("[data-call-note]");
  const failure = $("[data-call-failure]");
  const micButton = $("[data-action='call-mic']");
  const camButton = $("[data-action='call-camera']");
  const audioOnlyButton = $("[data-action='call-audio-only']");

  let call = null;          // the current call: {media, session, publisher, subscriber, ...}
  let members = [];
  let roomId = null;
  let listenOnly = false;
  const mutedBy = new Set(); // feeds an organizer muted (a badge on their tile)
  const prefs = { audioOnly: false };

  const place = (m) => (en ? m.prefecture_name_en : m.prefecture_name);

  function say(text) { note.textContent = text; note.hidden = !text; }

  function fail(text) {
    $("[data-call-failure-text]").textContent = text;
    failure.hidden = false;
  }

  function tile(feed) {
    let el = tiles.querySelector(`[data-feed="${feed}"]`);
    if (el) return el;
    el = document.createElement("figure");
    el.className = "tile";
    el.dataset.feed = feed;
    const video = document.createElement("video");
    video.autoplay = true; video.playsInline = true; video.muted = true;
    const audio = document.createElement("audio");
    audio.autoplay = true;
    const caption = document.createElement("figcaption");
    const name = document.createElement("span"); name.className = "tile-name";
    const pref = document.createElement("span"); pref.className = "tile-place";
    const badge = document.createElement("span"); badge.className = "tile-muted"; badge.hidden = true;
    badge.textContent = t.call_muted_badge;
    caption.append(name, pref, badge);
    el.append(video, audio, caption);
    if (state.actions.has("media.mute") && String(feed) !== String(call?.media.feed)) {
      const mute = document.createElement("button");
      mute.type = "button"; mute.className = "mini tile-mute"; mute.textContent = t.call_mute;
      mute.onclick = () => send({ type: "media.mute", room: roomId, registration: Number(feed), muted: true });
      caption.append(mute);
    }
    tiles.append(el);
    return el;
  }

  function renderTiles() {
    const feeds = new Set(members.map((m) => String(m.registration)));
    tiles.querySelectorAll(".tile").forEach((el) => { if (!feeds.has(el.dataset.feed)) el.remove(); });
    members.forEach((m) => {
      const el = tile(m.registration);
      el.querySelector(".tile-name").textContent = m.name;
      el.querySelector(".tile-place").textContent = place(m) || "";
      el.querySelector(".tile-muted").hidden = !mutedBy.has(String(m.registration));
      el.classList.toggle("is-self", call && String(m.registration) === String(call.media.feed));
    });
    tiles.dataset.count = String(members.length);
  }

  function setButtons() {
    const c = call;
    const on = (b, v, onText, offText) => { b.setAttribute("aria-pressed", String(v)); b.textContent = v ? onText : offText; };
    on(micButton, Boolean(c && c.mic), t.call_mic_off, t.call_mic_on);
    on(camButton, Boolean(c && c.camera), t.call_camera_off, t.call_camera_on);
    on(audioOnlyButton, prefs.audioOnly, t.call_video_back, t.call_audio_only);
    const joined = Boolean(c && c.joined);
    const forcedMute = Boolean(c && mutedBy.has(String(c.media.feed)));
    micButton.disabled = !joined || forcedMute;
    camButton.disabled = !joined || listenOnly || prefs.audioOnly;
    camButton.hidden = listenOnly;
    audioOnlyButton.disabled = !joined;
  }

  // ---- the call -------------------------------------------------------------------

  function hangUp() {
    const c = call;
    call = null;
    if (!c) return;
    c.closed = true;
    try { c.publisher?.send({ message: { request: "leave" } }); } catch (e) { /* the session may be gone already */ }
    try { c.session?.destroy({ cleanupHandles: true }); } catch (e) { /* nothing left to clean */ }
    tiles.querySelectorAll("video, audio").forEach((el) => { el.srcObject = null; });
    tiles.querySelectorAll(".tile").forEach((el) => el.classList.remove("is-talking", "has-video"));
  }

  async function start(media, attempts = 0) {
    hangUp();
    failure.hidden = true;
    const c = { media, attempts, session: null, publisher: null, subscriber: null, joined: false, mic: false, camera: false,
      publishing: false, privateId: null, streams: new Map(), subscribed: new Set(), mids: new Map(), closed: false,
      subscriberJoined: false, negotiating: false, pendingAdd: [], pendingDrop: [] };
    call = c;
    setButtons();
    renderTiles();
    say(t.call_connecting);
    let Janus;
    try { Janus = await loadJanus(root); } catch (e) { if (call === c) unreachable(); return; }
    if (call !== c) return;
    c.session = new Janus({
      server: media.janus_url, token: media.janus_token || undefined, iceServers: media.ice_servers || [],
      success: () => attachPublisher(Janus, c),
      error: () => { if (call === c) unreachable(); },
    });
  }

  function unreachable() {
    hangUp();
    say("");
    fail(t.call_unreachable);
    setButtons();
  }

  function attachPublisher(Janus, c) {
    c.session.attach({
      plugin: "janus.plugin.videoroom",
      success: (handle) => {
        c.publisher = handle;
        handle.send({ message: { request: "join", ptype: "publisher", room: c.media.room, id: c.media.feed,
          token: c.media.token, display: String(c.media.feed) } });
      },
      error: () => { if (call === c) unreachable(); },
      onmessage: (msg, jsep) => onPublisherMessage(Janus, c, msg, jsep),
      onlocaltrack: (track, on) => {
        if (track.kind !== "video") return;
        const el = tile(c.media.feed);
        const video = el.querySelector("video");
        video.srcObject = on ? new MediaStream([track]) : null;
        el.classList.toggle("has-video", on);
      },
    });
  }

  function onPublisherMessage(Janus, c, msg, jsep) {
    if (call !== c) return;
    if (jsep) c.publisher.handleRemoteJsep({ jsep });
    if (msg.error_code) {
      // 433: our token is not on the room's list yet (Renkei adds it right after the seat's commit,
      // which may land just after the move reached us): try again shortly, a few times, before giving up.
      if (msg.error_code === 433 && (c.attempts = (c.attempts || 0) + 1) <= 3) {
        setTimeout(() => { if (call === c) start(c.media, c.attempts); }, 1000 * c.attempts);
        return;
      }
      unreachable();
      return;
    }
    switch (msg.videoroom) {
      case "joined":
        c.joined = true;
        c.privateId = msg.private_id;
        say(listenOnly ? t.call_listening : "");
        setButtons();
        published(Janus, c, msg.publishers || []);
        break;
      case "event":
        if (msg.publishers) published(Janus, c, msg.publishers);
        if (msg.unpublished || msg.leaving) gone(c, msg.unpublished || msg.leaving);
        break;
      case "talking":
      case "stopped-talking":
        tiles.querySelector(`[data-feed="${msg.id}"]`)?.classList.toggle("is-talking", msg.videoroom === "talking");
        break;
      default:
        break;
    }
  }

  // What of a publisher we take: their audio, and their video unless in audio-only mode.
  function wanted(c, feed) {
    return (c.streams.get(String(feed)) || []).filter((s) => !s.disabled && (s.type === "audio" || (s.type === "video" && !prefs.audioOnly)));
  }

  function published(Janus, c, publishers) {
    const add = [];
    publishers.forEach((p) => {
      if (String(p.id) === String(c.media.feed)) return;
      c.streams.set(String(p.id), p.streams || []);
      wanted(c, p.id).forEach((s) => {
        const key = `${p.id}:${s.mid}`;
        if (!c.subscribed.has(key)) { c.subscribed.add(key); add.push({ feed: p.id, mid: s.mid }); }
      });
    });
    if (add.length) subscribe(Janus, c, add);
  }

  function gone(c, feed) {
    c.streams.delete(String(feed));
    [...c.subscribed].filter((k) => k.startsWith(`${feed}:`)).forEach((k) => c.subscribed.delete(k));
    const el = tiles.querySelector(`[data-feed="${feed}"]`);
    if (el) { el.classList.remove("has-video", "is-talking"); el.querySelector("video").srcObject = null; }
  }

  // One subscriber handle per call, and one renegotiation at a time: Janus answers each join or update
  // with an offer that must be answered before the next change, or the browser sees the m-lines out of
  // order and the call breaks. Changes that come meanwhile wait in pendingAdd/pendingDrop and go as one
  // "update" when the current one is done.
  function subscribe(Janus, c, streams) { change(c, streams, []); }

  function change(c, add, drop) {
    c.pendingAdd.push(...add);
    c.pendingDrop.push(...drop);
    flush(c);
  }

  function flush(c) {
    if (call !== c || c.negotiating) return;
    if (!c.subscriber) {
      if (!c.pendingAdd.length) return;
      const streams = c.pendingAdd.splice(0);
      c.pendingDrop = [];  // nothing is subscribed yet
      c.negotiating = true;
      attachSubscriber(c, streams);
      return;
    }
    if (!c.pendingAdd.length && !c.pendingDrop.length) return;
    const message = { request: "update" };
    if (c.pendingAdd.length) message.subscribe = c.pendingAdd.splice(0);
    if (c.pendingDrop.length) message.unsubscribe = c.pendingDrop.splice(0);
    c.negotiating = true;
    c.subscriber.send({ message });
  }

  function settled(c) {
    c.negotiating = false;
    flush(c);
  }

  function attachSubscriber(c, streams) {
    c.session.attach({
      plugin: "janus.plugin.videoroom",
      success: (handle) => {
        c.subscriber = handle;
        // private_id ties this subscription to our own publisher's seat: the room requires it.
        handle.send({ message: { request: "join", ptype: "subscriber", room: c.media.room, streams,
          private_id: c.privateId, token: c.media.token } });
      },
      error: () => { if (call === c) unreachable(); },
      onmessage: (msg, jsep) => {
        if (call !== c) return;
        if (msg.error_code) {
          // A refused join ends the call; a refused update (a feed that left meanwhile) only that change.
          if (!c.subscriberJoined) { unreachable(); return; }
          settled(c);
          return;
        }
        if (msg.streams) msg.streams.forEach((s) => { if (s.feed_id !== undefined) c.mids.set(s.mid, { feed: s.feed_id, type: s.type }); });
        if (msg.videoroom === "attached") c.subscriberJoined = true;
        if (jsep) {
          c.subscriber.createAnswer({
            jsep, tracks: [],
            success: (answer) => c.subscriber.send({ message: { request: "start", room: c.media.room }, jsep: answer }),
            error: () => { if (call === c) unreachable(); },
          });
        } else if (msg.videoroom === "attached" || msg.videoroom === "updated") {
          settled(c);  // nothing to negotiate this time
        }
        if (msg.started === "ok") settled(c);
      },
      onremotetrack: (track, mid, on) => {
        const source = c.mids.get(mid);
        if (!source) return;
        const el = tile(source.feed);  // staff looking in have no members list: an unlabelled tile then
        const sink = el.querySelector(track.kind === "video" ? "video" : "audio");
        if (on) {
          sink.srcObject = new MediaStream([track]);
          sink.play?.().catch(() => {});
        } else if (sink.srcObject && sink.srcObject.getTracks().includes(track)) {
          sink.srcObject = null;
        }
        if (track.kind === "video") el.classList.toggle("has-video", on);
      },
    });
  }

  // ---- the physician's own mic and camera ------------------------------------------------

  function publish(c, kind, on) {
    // First device turned on: the offer asks the browser for it. Later: add, mute or unmute that track.
    if (!on) {
      if (kind === "audio") c.publisher.muteAudio(); else c.publisher.muteVideo();
      c[kind === "audio" ? "mic" : "camera"] = false;
      setButtons();
      return;
    }
    const has = (k) => c.publisher.webrtcStuff?.pc?.getSenders?.().some((s) => s.track && s.track.kind === k);
    if (c.publishing && has(kind)) {
      if (kind === "audio") c.publisher.unmuteAudio(); else c.publisher.unmuteVideo();
      c[kind === "audio" ? "mic" : "camera"] = true;
      setButtons();
      return;
    }
    const track = kind === "audio"
      ? { type: "audio", capture: true, recv: false }
      : { type: "video", capture: VIDEO, recv: false, bitrate: VIDEO_BITRATE, framerate: 15 };
    if (c.publishing) track.add = true;
    const tracks = [track];  // one device at a time: the other is asked for only when turned on
    c.publisher.createOffer({
      tracks,
      success: (jsep) => {
        c.publishing = true;
        c[kind === "audio" ? "mic" : "camera"] = true;
        c.publisher.send({ message: { request: "configure", audio: true, video: true, bitrate: VIDEO_BITRATE }, jsep });
        failure.hidden = true;
        setButtons();
      },
      error: () => {
        if (call !== c) return;
        fail(kind === "audio" ? t.call_no_mic : t.call_no_camera);
        setButtons();
      },
    });
  }

  micButton.addEventListener("click", () => { if (call?.joined) publish(call, "audio", !call.mic); });
  camButton.addEventListener("click", () => { if (call?.joined) publish(call, "video", !call.camera); });
  audioOnlyButton.addEventListener("click", () => {
    prefs.audioOnly = !prefs.audioOnly;
    const c = call;
    if (c && c.joined) {
      if (prefs.audioOnly && c.camera) publish(c, "video", false);
      const videos = [];
      c.streams.forEach((streams, feed) => streams.filter((s) => s.type === "video").forEach((s) => videos.push({ feed: Number(feed), mid: s.mid })));
      if (prefs.audioOnly) {
        const drop = videos.filter((s) => c.subscribed.delete(`${s.feed}:${s.mid}`));
        if (drop.length) change(c, [], drop);
        tiles.querySelectorAll(".tile").forEach((el) => { if (el.dataset.feed !== String(c.media.feed)) el.classList.remove("has-video"); });
      } else {
        const add = videos.filter((s) => !c.subscribed.has(`${s.feed}:${s.mid}`));
        add.forEach((s) => c.subscribed.add(`${s.feed}:${s.mid}`));
        if (add.length) subscribe(window.Janus, c, add);
      }
    }
    panel.classList.toggle("is-audio-only", prefs.audioOnly);
    setButtons();
  });
  $("[data-action='call-retry']").addEventListener("click", () => {
    failure.hidden = true;
    if (call && call.joined) return;  // a refused device: the call itself runs, press the toggle again
    if (current) start(current);
  });

  let current = null;  // the media details of the table we are at (null: text-only)

  return {
    // A seated physician's table (hello, room.moved). media undefined: the frame says nothing (keep as is).
    enter(room, tableMembers, media, { listen = false } = {}) {
      const sameCall = call && media && call.media.room === media.room && call.media.token === media.token;
      roomId = room.id;
      members = tableMembers || [];
      listenOnly = listen;
      // The opening's move says nothing of media (one frame per table): no panel until a frame does.
      if (media === undefined && !call && !current) { panel.hidden = true; return; }
      panel.hidden = false;
      panel.classList.toggle("is-listening", listenOnly);
      $("[data-call-closing]").hidden = true;
      if (media === undefined || sameCall) { renderTiles(); setButtons(); return; }
      hangUp();
      mutedBy.clear();
      current = media;
      failure.hidden = true;
      renderTiles();
      if (!media) { say(t.call_text_only); setButtons(); return; }
      start(media);
    },
    members(tableMembers) { members = tableMembers; renderTiles(); },
    leave() {
      hangUp();
      current = null;
      panel.hidden = true;
      tiles.replaceChildren();
    },
    closing() {
      const warn = $("[data-call-closing]");
      warn.textContent = t.closing_soon;
      warn.hidden = false;
    },
    closed() {
      hangUp();
      current = null;
      say(t.call_ended);
      failure.hidden = true;
      setButtons();
    },
    muted(frame) {
      if (frame.room !== roomId) return;
      const feed = String(frame.registration);
      if (frame.muted) mutedBy.add(feed); else mutedBy.delete(feed);
      if (call && feed === String(call.media.feed)) {
        if (frame.muted && call.mic) publish(call, "audio", false);
        $("[data-call-muted]").hidden = !frame.muted;
      }
      renderTiles();
      setButtons();
    },
  };
}
