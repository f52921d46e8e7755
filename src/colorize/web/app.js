// The page of `colorize serve`: plain JavaScript, no build step, nothing fetched from the internet.
// The photo stays in the browser; each change (photo, model, hints) sends it to /api/colorize.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { file: null, width: 0, height: 0, models: [], hints: [], selected: -1, resultUrl: null,
                originalUrl: null, pending: null, timer: null, generation: 0 };
// The side of the square a clicked hint colours: ~4 pixels of the network's 96-pixel view (hint
// networks train on patches of 1-9 such pixels), whatever the photo's own size.
const hintSize = () => Math.max(5, Math.round(Math.max(state.width, state.height) / 24));
const REDO_DELAY_MS = 250;  // wait for a drag or a colour change to settle before colorizing again

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function currentModel() {
  return state.models.find((model) => model.name === $("model").value);
}

async function loadModels() {
  try {
    const response = await fetch("/api/models");
    state.models = (await response.json()).models;
  } catch (error) {
    setStatus("Cannot reach the server: is `colorize serve` still running?", true);
    return;
  }
  const select = $("model");
  select.innerHTML = "";
  for (const model of state.models) {
    const option = document.createElement("option");
    option.value = model.name;
    option.textContent = model.name + (model.default ? " (default)" : "") + (model.takes_hints ? " — takes hints" : "");
    option.selected = model.default;
    select.appendChild(option);
  }
  if (!state.models.length) setStatus("No trained model yet: run `make all` in the course folder.", true);
  updateHintNote();
}

function updateHintNote() {
  const model = currentModel();
  const takes = Boolean(model && model.takes_hints);
  $("hint-note").textContent = takes ? "click to place a colour hint" : "(this model takes no hints)";
  $("hints-panel").classList.toggle("disabled", !takes);
}

function choosePhoto(file) {
  if (!file) return;
  state.file = file;
  state.hints = [];
  state.selected = -1;
  if (state.originalUrl) URL.revokeObjectURL(state.originalUrl);
  state.originalUrl = URL.createObjectURL(file);
  const original = $("original");
  original.onload = () => {
    state.width = original.naturalWidth;
    state.height = original.naturalHeight;
    $("before-image").src = state.originalUrl;
    layoutCompare();
    renderHints();
  };
  original.onerror = () => setStatus("This browser cannot show the file (TIFF?); its colorized copy still downloads.");
  original.src = state.originalUrl;
  $("drop-text").textContent = file.name;
  colorizeSoon(0);
}

function colorizeSoon(delay = REDO_DELAY_MS) {
  clearTimeout(state.timer);
  state.timer = setTimeout(colorize, delay);
}

async function colorize() {
  if (!state.file) return;
  const generation = ++state.generation;
  if (state.pending) state.pending.abort();
  state.pending = new AbortController();
  const form = new FormData();
  form.append("photo", state.file, state.file.name);
  form.append("model", $("model").value);
  const model = currentModel();
  if (model && model.takes_hints && state.hints.length) {
    form.append("hints", JSON.stringify(state.hints.map((hint) => ({ x: hint.x, y: hint.y, color: hint.color, size: hintSize() }))));
  }
  setStatus(state.hints.length ? `Colorizing with ${state.hints.length} hint(s)…` : "Colorizing…");
  const started = performance.now();
  let response;
  try {
    response = await fetch("/api/colorize", { method: "POST", body: form, signal: state.pending.signal });
  } catch (error) {
    if (error.name !== "AbortError") setStatus("Cannot reach the server: is `colorize serve` still running?", true);
    return;
  }
  if (generation !== state.generation) return;  // a newer change is on its way
  if (response.status === 503 && response.headers.get("Retry-After")) {
    setStatus("The server is busy; trying again shortly…");
    colorizeSoon(1000 * Number(response.headers.get("Retry-After")));
    return;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ error: response.statusText }));
    setStatus(problem.error, true);
    return;
  }
  const blob = await response.blob();
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = URL.createObjectURL(blob);
  $("result").src = state.resultUrl;
  const link = $("download");
  link.href = state.resultUrl;
  link.download = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || "colorized";
  link.classList.remove("disabled");
  link.setAttribute("aria-disabled", "false");
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  setStatus(`Done in ${seconds} s with ${$("model").value || "the default model"}.`);
  $("result").onload = layoutCompare;
}

// --- hints ---------------------------------------------------------------------------------------

function photoPoint(event) {
  const box = $("original").getBoundingClientRect();
  const x = Math.floor((event.clientX - box.left) / box.width * state.width);
  const y = Math.floor((event.clientY - box.top) / box.height * state.height);
  return { x: Math.min(Math.max(x, 0), state.width - 1), y: Math.min(Math.max(y, 0), state.height - 1) };
}

function placeHint(event) {
  const model = currentModel();
  if (!state.file || !state.width) return;
  if (!model || !model.takes_hints) {
    setStatus("This model takes no colour hints: choose one marked “takes hints”.", true);
    return;
  }
  const point = photoPoint(event);
  state.hints.push({ ...point, color: "#a0522d" });
  state.selected = state.hints.length - 1;
  renderHints();
  suggestColours(state.hints[state.selected]);
  colorizeSoon();
}

function renderHints() {
  const markers = $("markers");
  markers.innerHTML = "";
  const list = $("hint-list");
  list.innerHTML = "";
  state.hints.forEach((hint, index) => {
    const marker = document.createElement("div");
    marker.className = "marker" + (index === state.selected ? " selected" : "");
    marker.style.left = `${(hint.x + 0.5) / state.width * 100}%`;
    marker.style.top = `${(hint.y + 0.5) / state.height * 100}%`;
    marker.style.background = hint.color;
    marker.title = `hint ${index + 1}: ${hint.color} at (${hint.x}, ${hint.y})`;
    marker.dataset.index = index;
    marker.addEventListener("pointerdown", (event) => startDrag(event, index));
    markers.appendChild(marker);

    const item = document.createElement("li");
    item.className = index === state.selected ? "selected" : "";
    const colour = document.createElement("input");
    colour.type = "color";
    colour.value = hint.color;
    colour.setAttribute("aria-label", `colour of hint ${index + 1}`);
    colour.addEventListener("input", () => { hint.color = colour.value; marker.style.background = colour.value; colorizeSoon(); });
    const where = document.createElement("span");
    where.textContent = `at (${hint.x}, ${hint.y})`;
    const remove = document.createElement("button");
    remove.textContent = "Remove";
    remove.addEventListener("click", () => removeHint(index));
    item.append(colour, where, remove);
    item.addEventListener("click", (event) => {
      if (event.target === item || event.target === where) { state.selected = index; renderHints(); suggestColours(hint); }
    });
    list.appendChild(item);
  });
}

function removeHint(index) {
  state.hints.splice(index, 1);
  state.selected = -1;
  $("suggestions").innerHTML = "";
  renderHints();
  colorizeSoon();
}

function startDrag(event, index) {
  event.preventDefault();
  event.stopPropagation();
  state.selected = index;
  const marker = event.target;
  marker.setPointerCapture(event.pointerId);
  let moved = false;
  const move = (moveEvent) => {
    const point = photoPoint(moveEvent);
    Object.assign(state.hints[index], point);
    marker.style.left = `${(point.x + 0.5) / state.width * 100}%`;
    marker.style.top = `${(point.y + 0.5) / state.height * 100}%`;
    moved = true;
  };
  const stop = () => {
    marker.removeEventListener("pointermove", move);
    marker.removeEventListener("pointerup", stop);
    renderHints();
    suggestColours(state.hints[index]);
    if (moved) colorizeSoon();
  };
  marker.addEventListener("pointermove", move);
  marker.addEventListener("pointerup", stop);
}

async function suggestColours(hint) {
  const box = $("suggestions");
  box.innerHTML = "";
  if (!hint || !state.file) return;
  const form = new FormData();
  form.append("photo", state.file, state.file.name);
  form.append("x", hint.x);
  form.append("y", hint.y);
  form.append("model", $("model").value);
  const response = await fetch("/api/suggest", { method: "POST", body: form }).catch(() => null);
  if (!response || !response.ok) return;  // no model predicts a distribution: the colour picker alone
  const found = await response.json();
  const label = document.createElement("span");
  label.className = "note";
  label.textContent = "Most likely here:";
  box.appendChild(label);
  for (const suggestion of found.colors) {
    const swatch = document.createElement("button");
    swatch.className = "swatch";
    swatch.style.background = suggestion.color;
    swatch.title = `${suggestion.color} (${Math.round(100 * suggestion.probability)} %)`;
    swatch.setAttribute("aria-label", swatch.title);
    swatch.addEventListener("click", () => { hint.color = suggestion.color; renderHints(); colorizeSoon(0); });
    box.appendChild(swatch);
  }
}

// --- the before/after view -------------------------------------------------------------------------

function layoutCompare() {
  const width = $("compare").clientWidth;
  $("before-image").style.width = `${width}px`;
  $("before").style.width = `${$("slider").value}%`;
}

// --- wiring ------------------------------------------------------------------------------------------

$("file").addEventListener("change", (event) => choosePhoto(event.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  choosePhoto(event.dataTransfer.files[0]);
});
$("original").addEventListener("click", placeHint);
$("model").addEventListener("change", () => { updateHintNote(); $("suggestions").innerHTML = ""; colorizeSoon(0); });
$("slider").addEventListener("input", layoutCompare);
window.addEventListener("resize", layoutCompare);
loadModels();
