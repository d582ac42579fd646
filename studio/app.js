// The Superstar studio: the API through the gateway, from the page the gateway serves.
//
// - The API key lives in sessionStorage only (gone with the tab), is sent as the
//   x-api-key header, never in a URL; "Sign out" forgets it.
// - Everything a user or a model wrote is put on the page with textContent, never as
//   HTML: a theme such as <img src=x onerror=alert(1)> shows as text. The page's
//   Content-Security-Policy (set by the gateway) allows no inline script at all.
// - Views are chosen by the URL's #fragment (#/, #/library, #/albums/ID, #/songs/ID),
//   so the gateway serves one page.

const KEY = "superstar.key";
const main = document.getElementById("main");
const status = document.getElementById("status");
const nav = document.getElementById("nav");

/** An element with attributes (`text` sets its text, `on…` adds a listener) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function say(message) {
  status.textContent = message;
}

/** A failed call: its HTTP status, the API's message, and when a limit refills. */
class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

async function apiError(response) {
  let message = response.statusText;
  try {
    message = (await response.json()).message ?? message;
  } catch {
    // not JSON: the status text will do
  }
  return new ApiError(response.status, message, response.headers.get("x-ratelimit-reset"));
}

/** A call with the key; a failed status becomes an ApiError. */
async function api(path, { method = "GET", body } = {}) {
  const headers = { "x-api-key": sessionStorage.getItem(KEY) ?? "" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  if (!response.ok) throw await apiError(response);
  return response;
}

/** What to tell the user about a failure: each case says what to do next. */
function explain(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message}`;
  switch (error.status) {
    case 401:
      sessionStorage.removeItem(KEY);
      return "That API key was not accepted. Please sign in again.";
    case 429:
      if (error.retryAfter === null) return "Too many requests: try again in a few seconds.";
      return `Too many requests: try again in ${error.retryAfter} second${error.retryAfter === "1" ? "" : "s"}.`;
    case 400:
      return `Please check the form: ${error.message}`;
    case 404:
      return "Not found: it may have been made on another system.";
    case 503:
      return "The model provider is unavailable right now. Please try again in a minute.";
    default:
      return `Error ${error.status}: ${error.message}`;
  }
}

function fail(error) {
  say(explain(error));
  if (error instanceof ApiError && error.status === 401) route();
}

/** Lyrics with their [Section] lines as headings, every line as text. */
function lyrics(text) {
  const box = el("div", { class: "lyrics" });
  let verse = [];
  const flush = () => {
    if (verse.length) box.append(el("p", { text: verse.join("\n") }));
    verse = [];
  };
  for (const line of text.split("\n")) {
    const heading = line.trim().match(/^\[(.+)\]$/);
    if (heading) {
      flush();
      box.append(el("h4", { text: heading[1] }));
    } else if (line.trim() === "") flush();
    else verse.push(line);
  }
  flush();
  return box;
}

function song(track, { title, lyrics: text, id }) {
  const heading = id ? el("a", { href: `#/songs/${id}`, text: title }) : title;
  return el("section", { class: "song" }, el("h3", {}, `${track}. `, heading), lyrics(text));
}

/** A cover image, fetched with the key in a header and shown from a blob URL. */
async function cover(id) {
  const response = await api(`/v1/covers/${encodeURIComponent(id)}/image`);
  const url = URL.createObjectURL(await response.blob());
  const image = el("img", { class: "cover", src: url, alt: "The album's cover", "data-cover": id });
  const download = el("a", { href: url, download: `cover-${id}.png`, text: "Download the cover (PNG)" });
  return [image, el("p", {}, download)];
}

function signIn() {
  nav.hidden = true;
  const input = el("input", { id: "key", type: "password", autocomplete: "off", required: "" });
  main.replaceChildren(
    el("h1", { text: "Sign in" }),
    el("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY, input.value.trim());
        try {
          await api("/v1/songs?pageSize=1");
          say("");
          route();
        } catch (error) {
          fail(error);
        }
      },
    },
    el("label", { for: "key", text: "API key" }), input,
    el("button", { type: "submit", text: "Sign in" })),
  );
  input.focus();
}

function makeAlbum() {
  const field = (id, label, control) => [el("label", { for: id, text: label }), control];
  const form = el("form", { onsubmit: (event) => { event.preventDefault(); streamAlbum(form); } },
    ...field("genre", "Genre", el("input", { id: "genre", name: "genre", list: "genres", required: "", maxlength: "64" })),
    ...field("theme", "Theme", el("input", { id: "theme", name: "theme", required: "", maxlength: "500" })),
    ...field("songs", "Number of songs",
      el("input", { id: "songs", name: "songs", type: "number", min: "1", max: "10", value: "3" })),
    ...field("cover", "Cover description (optional)",
      el("textarea", { id: "cover", name: "cover", maxlength: "1000", rows: "2" })),
    el("button", { type: "submit", text: "Make the album" }));
  main.replaceChildren(el("h1", { text: "Make an album" }), form, el("div", { id: "progress" }));
}

/** StreamAlbum as newline-delimited JSON: each song as it is written, then the cover,
 *  then the stored album, whose page is shown. */
async function streamAlbum(form) {
  const button = form.querySelector("button");
  const progress = document.getElementById("progress");
  const value = (name) => form.elements[name].value;
  button.disabled = true;
  progress.replaceChildren(el("p", { class: "writing", text: "Writing the songs…" }));
  say("");
  try {
    const response = await api("/v1/albums:stream", {
      method: "POST",
      body: {
        genre: value("genre"),
        theme: value("theme"),
        songsCount: Number(value("songs")),
        coverDescription: value("cover"),
        requestId: crypto.randomUUID(),
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    let track = 0;
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const message = JSON.parse(line);
        // Each step is marked on the page's performance timeline (the browser tests
        // read it: the first song must be on the page before the album is stored).
        if (message.song) {
          track += 1;
          progress.append(song(track, message.song));
          performance.mark(`song ${track}`);
        } else if (message.cover) {
          progress.append(...(await cover(message.cover.id)));
          performance.mark("cover");
        } else if (message.album) {
          performance.mark("album");
          location.hash = `#/albums/${message.album.id}`;
          return;
        } else if (message.code !== undefined) {
          throw new ApiError(httpStatus(message.code), message.message, null);
        }
      }
    }
    throw new Error("the album could not be finished (the connection ended early); please try again");
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

/** The HTTP status of a gRPC code, for an error that arrives inside a stream. */
function httpStatus(code) {
  return { 3: 400, 5: 404, 8: 429, 14: 503, 16: 401 }[code] ?? 500;
}

async function library(token = "") {
  main.replaceChildren(el("h1", { text: "Library" }));
  const list = el("ol", { class: "albums" });
  main.append(list);
  const more = el("button", { type: "button", text: "More albums", hidden: "" });
  const load = async (pageToken) => {
    const query = new URLSearchParams({ pageSize: "10", ...(pageToken ? { pageToken } : {}) });
    const page = await (await api(`/v1/albums?${query}`)).json();
    for (const album of page.albums ?? []) {
      list.append(el("li", {}, el("a", { href: `#/albums/${album.id}`, text: album.title }),
        ` — ${album.genre}, ${album.songs?.length ?? 0} songs`));
    }
    if (!list.children.length) list.replaceWith(el("p", { text: "No albums yet." }));
    more.hidden = !page.nextPageToken;
    more.onclick = () => load(page.nextPageToken).catch(fail);
  };
  main.append(more);
  await load(token);
}

async function albumPage(id) {
  const album = await (await api(`/v1/albums/${encodeURIComponent(id)}`)).json();
  main.replaceChildren(el("h1", { text: album.title }),
    el("p", { text: `${album.genre} — ${album.theme}` }));
  if (album.cover) main.append(...(await cover(album.cover.id)));
  const tracks = el("ol");
  album.songs.forEach((each) => tracks.append(el("li", {}, el("a", { href: `#/songs/${each.id}`, text: each.title }))));
  main.append(el("h2", { text: "Tracks" }), tracks);
  album.songs.forEach((each, index) => main.append(song(index + 1, each)));
}

async function songPage(id) {
  const found = await (await api(`/v1/songs/${encodeURIComponent(id)}`)).json();
  main.replaceChildren(el("h1", { text: found.title }), el("p", { text: `${found.genre} — ${found.theme}` }),
    lyrics(found.lyrics));
  if (found.albumId) main.append(el("p", {}, el("a", { href: `#/albums/${found.albumId}`, text: "The album" })));
}

async function route() {
  if (!sessionStorage.getItem(KEY)) return signIn();
  nav.hidden = false;
  const [, view, id] = location.hash.split("/");
  try {
    if (view === "library") await library();
    else if (view === "albums" && id) await albumPage(id);
    else if (view === "songs" && id) await songPage(id);
    else makeAlbum();
    main.focus();
  } catch (error) {
    fail(error);
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  say("Signed out.");
  location.hash = "#/";
  route();
});
// A new view starts without the last one's message.
window.addEventListener("hashchange", () => {
  say("");
  route();
});
route();
