// Facecraft web page: plain JavaScript, no dependencies, no build step.
// Talks to this server's API only: GET /api/v1/presets, POST /api/v1/process, GET the result downloads.
// Several photos are sent one by one (a progress bar advances as each completes) and zipped in the browser.
"use strict";

(() => {
  const API = "/api/v1";
  const KEY_STORE = "facecraft.apiKey"; // sessionStorage only: gone when the tab closes
  const MAX_TRIES = 4; // per photo, when the server answers busy (429) or still loading (503)
  const EXT = { png: "png", jpg: "jpg", webp: "webp" };
  const FORMAT_NAMES = { png: "PNG", jpg: "JPEG", webp: "WebP" };

  const $ = (id) => document.getElementById(id);
  const el = {
    keyPanel: $("key-panel"), keyTitle: $("key-title"), keyForm: $("key-form"), keyInput: $("api-key"), keyForget: $("key-forget"),
    form: $("photo-form"), preset: $("preset"), presetHelp: $("preset-help"),
    width: $("width"), height: $("height"), background: $("background"), backgroundValue: $("background-value"),
    transparent: $("transparent"), oval: $("oval"), margin: $("margin"), marginValue: $("margin-value"),
    format: $("format"), maxKb: $("max-kb"),
    drop: $("drop"), files: $("files"), selection: $("selection"), process: $("process"), clear: $("clear"),
    status: $("status"),
    single: $("single"), originalImg: $("original-img"), originalMeta: $("original-meta"),
    resultFrame: $("result-frame"), resultImg: $("result-img"), resultMeta: $("result-meta"), resultPlaceholder: $("result-placeholder"),
    download: $("download"),
    bands: $("bands"), bandHead: $("band-head"), bandEye: $("band-eye"),
    lineCrown: $("line-crown"), lineChin: $("line-chin"), lineEye: $("line-eye"),
    compliance: $("compliance"), complianceSummary: $("compliance-summary"), showBands: $("show-bands"), checklist: $("checklist"),
    sheetRow: $("sheet-row"), paper: $("paper"), makeSheet: $("make-sheet"), sheetDownload: $("sheet-download"),
    batch: $("batch"), progress: $("batch-progress"), batchCount: $("batch-count"), batchList: $("batch-list"),
    zip: $("zip"),
  };

  const state = { presets: [], files: [], objectUrls: [], working: false, needsKey: false, ready: false, lastFile: null };

  // ---- API key -------------------------------------------------------------------------------------------
  function storedKey() {
    try { return sessionStorage.getItem(KEY_STORE) || ""; } catch { return ""; }
  }
  function storeKey(value) {
    try {
      if (value) sessionStorage.setItem(KEY_STORE, value); else sessionStorage.removeItem(KEY_STORE);
    } catch { /* storage disabled: the key lives in the input only */ }
  }
  function authHeaders() {
    const key = storedKey() || el.keyInput.value.trim();
    return key ? { "X-API-Key": key } : {};
  }

  // ---- HTTP and errors -----------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message, extra = {}) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = extra.field || null;
      this.faceCount = extra.faceCount || null;
      this.retryAfter = extra.retryAfter || null;
    }
  }
  const CODE_BY_STATUS = { 401: "unauthorized", 404: "not_found", 413: "upload_too_large", 415: "unsupported_image",
    422: "invalid_option", 429: "busy", 503: "models_loading" };

  async function api(path, init = {}) {
    let response;
    try {
      response = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers || {}) } });
    } catch {
      throw new ApiError(0, "network", "The server could not be reached.");
    }
    if (response.ok) return response;
    let body = null;
    try { body = await response.json(); } catch { /* not JSON: a proxy's page, say */ }
    const info = (body && body.error) || {};
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, info.code || CODE_BY_STATUS[response.status] || "http_" + response.status,
      info.message || (body && body.detail) || response.statusText,
      { field: info.field, faceCount: info.face_count, retryAfter: Number.isFinite(retry) ? retry : null });
  }

  const FIELD_LABELS = { width: "Width", height: "Height", background: "Background colour", face_margin: "Margin",
    use_oval_mask: "Oval mask", output_format: "Format", max_kb: "JPEG limit", preset: "Preset",
    transparent_background: "Transparent background", file: "Photo" };
  const FIELD_INPUTS = { width: "width", height: "height", background: "background", face_margin: "margin",
    output_format: "format", max_kb: "maxKb", preset: "preset" };

  // Error codes are stable (see the API docs); each gets a sentence a person can act on.
  function friendly(error) {
    switch (error.code) {
      case "no_face":
        return "No face was found in this photo. Use a photo where one face is clearly visible and facing the camera.";
      case "multiple_faces":
        return `This photo shows ${error.faceCount || "several"} faces. Use a photo of one person.`;
      case "unsupported_image":
        return "This file is not an image Facecraft can read. Use a JPEG, PNG, WebP, BMP, TIFF, HEIC or AVIF photo.";
      case "upload_too_large":
        return `This file is too large to upload. ${error.message}`;
      case "image_too_large":
        return "This image has too many pixels. Scale it down (for example to 4000 × 3000) and try again.";
      case "too_many_files":
        return `Too many files at once. ${error.message}`;
      case "output_too_large":
        return "The JPEG cannot be made small enough for the JPEG limit. Raise “JPEG limit (KB)”, make the image smaller, or choose PNG.";
      case "invalid_option": {
        const name = FIELD_LABELS[error.field] || error.field || "A setting";
        return `${name}: ${error.message.replace(/^Invalid value for '[^']*': /, "")}`;
      }
      case "not_compliant":
        return `The photo does not meet the document's rules. ${error.message}`;
      case "busy":
        return "The server is busy with other photos. Please try again in a few seconds.";
      case "models_loading":
      case "model_unavailable":
      case "model_checksum_mismatch":
        return "The server is still starting up (loading its models). Please try again in a moment.";
      case "unauthorized":
        return storedKey() ? "The API key was not accepted. Check it and enter it again." : "This server needs an API key. Enter it above.";
      case "not_found":
        return "The result is no longer available (it expired or was deleted). Process the photo again.";
      case "network":
        return "The server could not be reached. Check your connection and that Facecraft is running.";
      default:
        return `Something went wrong on the server (${error.code}). Please try again; if it keeps happening, tell the administrator.`;
    }
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  // POST one photo; wait and retry while the server is busy or loading. onWait(seconds) reports the pause.
  async function processOne(file, onWait) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await api(`${API}/process`, { method: "POST", body: formFor(file) });
        const body = await response.json();
        const image = await (await api(body.download_url)).blob();
        return { body, image };
      } catch (error) {
        const transient = error instanceof ApiError && (error.code === "busy" || error.code === "models_loading");
        if (!transient || attempt >= MAX_TRIES) throw error;
        const seconds = Math.min(Math.max(error.retryAfter || 2, 1), 30);
        onWait(seconds, error);
        await sleep(seconds * 1000);
      }
    }
  }

  // ---- status line ---------------------------------------------------------------------------------------
  function say(text, kind = "") {
    el.status.className = "status" + (kind ? " " + kind : "");
    el.status.textContent = text;
  }

  // ---- settings ------------------------------------------------------------------------------------------
  function formFor(file) {
    const data = new FormData();
    data.append("file", file, file.name);
    if (el.preset.value) data.append("preset", el.preset.value);
    data.append("width", el.width.value);
    data.append("height", el.height.value);
    data.append("background", el.background.value);
    data.append("transparent_background", String(el.transparent.checked));
    data.append("use_oval_mask", String(el.oval.checked));
    data.append("face_margin", el.margin.value);
    data.append("output_format", el.format.value);
    data.append("max_kb", el.maxKb.value);
    return data;
  }

  function clearInvalid() {
    for (const input of el.form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function checkSettings() {
    clearInvalid();
    for (const input of [el.width, el.height, el.maxKb]) {
      if (!input.checkValidity() || input.value === "") {
        input.setAttribute("aria-invalid", "true");
        const label = document.querySelector(`label[for="${input.id}"]`).textContent;
        say(`${label}: enter a whole number from ${input.min} to ${input.max}.`, "error");
        input.focus();
        return false;
      }
    }
    return true;
  }

  function markField(error) {
    const key = FIELD_INPUTS[error.field];
    if (error.code === "invalid_option" && key) el[key].setAttribute("aria-invalid", "true");
  }

  function syncControls() {
    el.backgroundValue.textContent = el.background.value;
    el.marginValue.textContent = Number(el.margin.value).toFixed(2);
    el.transparent.disabled = el.format.value === "jpg";
  }

  function applyPreset(id) {
    const preset = state.presets.find((p) => p.id === id);
    if (!preset) {
      el.presetHelp.textContent = "Set the size and style yourself.";
      return;
    }
    el.width.value = preset.width;
    el.height.value = preset.height;
    el.background.value = preset.background;
    el.oval.checked = preset.oval;
    el.format.value = preset.format;
    el.maxKb.value = preset.max_kb;
    el.margin.value = preset.face_margin;
    el.transparent.checked = true;
    el.presetHelp.textContent = preset.description;
    clearInvalid();
    syncControls();
  }

  function onSettingEdited() {
    syncControls();
    const preset = state.presets.find((p) => p.id === el.preset.value);
    if (preset) el.presetHelp.textContent = `${preset.description} Your changes override the preset.`;
  }

  async function loadPresets() {
    let response;
    try {
      response = await api(`${API}/presets`);
    } catch (error) {
      if (error.code === "unauthorized") {
        showKeyPanel(Boolean(storedKey()));
        return false;
      }
      say(friendly(error), "error");
      return false;
    }
    state.presets = await response.json();
    const current = el.preset.value;
    el.preset.replaceChildren(new Option("Custom", ""));
    for (const p of state.presets) el.preset.append(new Option(p.label, p.id));
    const initial = state.presets.some((p) => p.id === current) ? current : (state.presets.some((p) => p.id === "square") ? "square" : "");
    el.preset.value = initial;
    applyPreset(initial);
    state.ready = true;
    updateButtons();
    return true;
  }

  function showKeyPanel(rejected) {
    state.needsKey = true;
    el.keyPanel.hidden = false;
    el.keyTitle.textContent = "API key required";
    el.keyForget.hidden = !storedKey();
    say(rejected ? "The API key was not accepted. Check it and enter it again." : "This server needs an API key. Enter it to continue.",
      rejected ? "error" : "");
    el.keyInput.focus();
    state.ready = false;
    updateButtons();
  }

  // ---- file selection ------------------------------------------------------------------------------------
  function formatBytes(n) {
    return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
  }

  function setFiles(list) {
    state.files = Array.from(list || []);
    const n = state.files.length;
    if (n === 0) el.selection.textContent = "";
    else if (n === 1) el.selection.textContent = `Selected: ${state.files[0].name} (${formatBytes(state.files[0].size)})`;
    else el.selection.textContent = `Selected: ${n} photos (${formatBytes(state.files.reduce((s, f) => s + f.size, 0))})`;
    el.process.textContent = n > 1 ? `Make ${n} headshots` : "Make headshot";
    resetResults();
    if (n === 1) showOriginal(state.files[0]);
    say(n ? "Ready. Check the settings, then press “" + el.process.textContent + "”." : "");
    updateButtons();
  }

  function updateButtons() {
    el.process.disabled = state.working || !state.ready || state.files.length === 0;
    el.clear.hidden = state.files.length === 0;
    el.clear.disabled = state.working;
    el.files.disabled = state.working;
  }

  function track(url) { state.objectUrls.push(url); return url; }

  function resetResults() {
    for (const url of state.objectUrls) URL.revokeObjectURL(url);
    state.objectUrls = [];
    el.single.hidden = true;
    el.batch.hidden = true;
    el.resultImg.hidden = true;
    el.resultImg.removeAttribute("src");
    el.resultFrame.classList.remove("checker");
    el.resultPlaceholder.hidden = false;
    el.resultPlaceholder.textContent = "The result appears here.";
    el.resultMeta.textContent = "";
    el.download.hidden = true;
    el.zip.hidden = true;
    el.batchList.replaceChildren();
    el.compliance.hidden = true;
    el.checklist.replaceChildren();
    el.bands.hidden = true;
    el.sheetRow.hidden = true;
    el.sheetDownload.hidden = true;
  }

  function showOriginal(file) {
    el.single.hidden = false;
    el.originalImg.src = track(URL.createObjectURL(file));
    el.originalImg.onload = () => {
      el.originalMeta.textContent = `${el.originalImg.naturalWidth} × ${el.originalImg.naturalHeight} px · ${formatBytes(file.size)}`;
    };
    el.originalImg.onerror = () => { el.originalMeta.textContent = `${formatBytes(file.size)} · no preview in this browser`; };
  }

  function stem(name) {
    const base = name.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "");
    return base.replace(/[^\p{L}\p{N}._-]+/gu, "_").slice(0, 80) || "photo";
  }

  function resultName(file) {
    const tag = el.preset.value || `${el.width.value}x${el.height.value}`;
    return `${stem(file.name)}-${tag}.${EXT[el.format.value] || "png"}`;
  }

  // ---- one photo -----------------------------------------------------------------------------------------
  async function runSingle(file) {
    showOriginal(file);
    el.resultPlaceholder.textContent = "Working…";
    say(`Processing ${file.name}…`, "working");
    const started = performance.now();
    try {
      const { body, image } = await processOne(file, (s) => say(`The server is busy. Trying again in ${s} s…`, "working"));
      const url = track(URL.createObjectURL(image));
      el.resultImg.src = url;
      el.resultImg.hidden = false;
      // A checkerboard shows where a PNG or WebP is transparent; a JPEG has no transparency.
      el.resultFrame.classList.toggle("checker", body.result.output_format !== "jpg");
      el.resultPlaceholder.hidden = true;
      const r = body.result;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      el.resultMeta.textContent = `${r.output_size.width} × ${r.output_size.height} px · ${FORMAT_NAMES[r.output_format] || r.output_format} · ${formatBytes(image.size)}`;
      el.download.href = url;
      el.download.download = resultName(file);
      el.download.textContent = `Download ${FORMAT_NAMES[r.output_format] || ""} (${r.output_size.width} × ${r.output_size.height})`;
      el.download.hidden = false;
      const faces = r.face_count > 1 ? ` ${r.face_count} faces found; the largest was used.` : "";
      state.lastFile = file;
      el.sheetRow.hidden = false;
      showCompliance(r.compliance);
      const verdict = r.compliance ? (r.compliance.passed ? " Every document check passed." : " Some document checks failed (see the list).") : "";
      say(`Done in ${seconds} s: ${r.output_size.width} × ${r.output_size.height} px.${faces}${verdict}`, "ok");
    } catch (error) {
      el.resultPlaceholder.textContent = "No result.";
      handleFailure(error);
    }
  }

  // ---- document check ------------------------------------------------------------------------------------
  const CHECK_LABELS = { head_height: "Head height (chin to crown)", eye_line: "Eye line from the bottom",
    crown_margin: "Space above the head", centring: "Face centred", roll: "Head tilt (roll)", yaw: "Head turn (yaw)",
    pitch: "Head nod (pitch)", eyes_open: "Eyes open", mouth_closed: "Mouth closed", face_inside: "Face inside the photo",
    photo_coverage: "Photo fills the frame", eye_distance_source: "Resolution (px between the eyes)",
    background_uniformity: "Plain background (ΔE)", face_exposure: "Face exposure", face_clipping: "Face clipping",
    file_format: "File format", file_size: "File size", file_dimensions: "Pixel size" };

  function formatValue(check) {
    if (typeof check.value === "boolean") return check.value ? "yes" : "no";
    if (check.value === null || check.value === undefined) return "—";
    const unit = check.unit && check.unit !== "ratio" ? ` ${check.unit}` : "";
    return `${Number(check.value).toFixed(check.unit === "°" || check.unit === "ratio" ? 2 : 1)}${unit}`;
  }

  function formatRange(check) {
    if (!check.range) return check.note || "";
    const [low, high] = check.range;
    if (low === null && high === null) return "no limit";
    if (low !== null && high !== null) return `allowed ${low}–${high}`;
    if (low !== null) return `at least ${low}`;
    return `at most ${high}`;
  }

  function showCompliance(report) {
    el.checklist.replaceChildren();
    if (!report) {
      el.compliance.hidden = true;
      el.bands.hidden = true;
      return;
    }
    const failed = report.checks.filter((c) => !c.passed).length;
    el.complianceSummary.textContent = failed
      ? `${failed} of ${report.checks.length} checks failed for ${report.standard}.`
      : `All ${report.checks.length} checks passed for ${report.standard}.`;
    for (const check of report.checks) {
      const li = document.createElement("li");
      const mark = document.createElement("span");
      mark.className = check.passed ? "pass" : "fail";
      mark.textContent = check.passed ? "✔" : "✘";
      mark.setAttribute("aria-label", check.passed ? "passed" : "failed");
      const name = document.createElement("span");
      name.textContent = CHECK_LABELS[check.id] || check.id;
      const value = document.createElement("span");
      value.className = "value";
      const range = formatRange(check);
      value.textContent = `${formatValue(check)}${range ? ` (${range})` : ""}`;
      li.append(mark, name, value);
      el.checklist.append(li);
    }
    el.compliance.hidden = false;
    drawBands(report);
  }

  // Thin lines at the measured crown, chin and eye line; shaded: where the chin may be for the head height
  // to be inside its band (given the crown), and the eye band.
  function drawBands(report) {
    const preset = state.presets.find((p) => p.id === report.standard);
    const rules = preset && preset.rules;
    const frame = report.frame;
    if (!rules || !frame) { el.bands.hidden = true; return; }
    const pct = (share) => `${(share * 100).toFixed(2)}%`;
    const place = (node, top, bottom) => {
      node.style.top = pct(top);
      node.style.height = pct(Math.max(0, bottom - top));
    };
    const [headLow, headHigh] = rules.head_height_share;
    place(el.bandHead, frame.crown + headLow, frame.crown + headHigh);
    const eye = rules.eye_line_from_bottom_share;
    el.bandEye.hidden = !eye;
    if (eye) place(el.bandEye, 1 - eye[1], 1 - eye[0]);
    el.lineCrown.style.top = pct(frame.crown);
    el.lineChin.style.top = pct(frame.chin);
    el.lineEye.style.top = pct(frame.eye);
    el.bands.hidden = !el.showBands.checked;
  }

  // ---- print sheet ---------------------------------------------------------------------------------------
  async function makeSheet() {
    const file = state.lastFile;
    if (!file || state.working) return;
    state.working = true;
    updateButtons();
    el.makeSheet.disabled = true;
    say("Making the print sheet…", "working");
    try {
      const data = formFor(file);
      data.append("paper", el.paper.value);
      const response = await api(`${API}/sheet`, { method: "POST", body: data });
      const copies = response.headers.get("X-Sheet-Copies");
      const url = track(URL.createObjectURL(await response.blob()));
      el.sheetDownload.href = url;
      el.sheetDownload.download = `${stem(file.name)}-${el.preset.value || "photo"}-sheet-${el.paper.value}.jpg`;
      el.sheetDownload.textContent = `Download sheet (${copies} copies)`;
      el.sheetDownload.hidden = false;
      say(`Print sheet ready: ${copies} copies at 300 dpi. Print it at 100 % (actual size), not “fit to page”.`, "ok");
    } catch (error) {
      handleFailure(error);
    } finally {
      state.working = false;
      el.makeSheet.disabled = false;
      updateButtons();
    }
  }

  function handleFailure(error) {
    if (!(error instanceof ApiError)) error = new ApiError(0, "internal_error", String(error));
    markField(error);
    say(friendly(error), "error");
    if (error.code === "unauthorized") showKeyPanel(Boolean(storedKey()));
  }

  // ---- several photos ------------------------------------------------------------------------------------
  async function runBatch(files) {
    el.batch.hidden = false;
    el.progress.max = files.length;
    el.progress.value = 0;
    const rows = files.map((file) => {
      const li = document.createElement("li");
      const thumb = document.createElement("img");
      thumb.className = "thumb";
      thumb.alt = "";
      const text = document.createElement("div");
      const name = document.createElement("div");
      name.className = "name";
      name.textContent = file.name;
      const st = document.createElement("div");
      st.className = "state";
      st.textContent = "Waiting";
      text.append(name, st);
      const link = document.createElement("span");
      li.append(thumb, text, link);
      el.batchList.append(li);
      return { thumb, st, link };
    });
    const entries = [];
    let done = 0;
    let failed = 0;
    const update = () => {
      el.progress.value = done;
      el.batchCount.textContent = `${done} of ${files.length} done${failed ? `, ${failed} failed` : ""}`;
    };
    update();
    for (const [i, file] of files.entries()) {
      const row = rows[i];
      row.st.textContent = "Processing…";
      say(`Processing photo ${i + 1} of ${files.length}: ${file.name}…`, "working");
      try {
        const { image } = await processOne(file, (s) => { row.st.textContent = `Server busy, retrying in ${s} s…`; });
        const url = track(URL.createObjectURL(image));
        row.thumb.src = url;
        row.thumb.alt = `Result for ${file.name}`;
        row.st.textContent = "Done";
        row.st.classList.add("done");
        const name = uniqueName(entries, resultName(file));
        const a = document.createElement("a");
        a.href = url;
        a.download = name;
        a.textContent = "Download";
        a.setAttribute("aria-label", `Download the result for ${file.name}`);
        row.link.append(a);
        entries.push({ name, data: new Uint8Array(await image.arrayBuffer()) });
      } catch (error) {
        failed += 1;
        const e = error instanceof ApiError ? error : new ApiError(0, "internal_error", String(error));
        row.st.textContent = friendly(e);
        row.st.classList.add("failed");
        if (e.code === "unauthorized") { handleFailure(e); break; }
      }
      done += 1;
      update();
    }
    if (entries.length) {
      el.zip.href = track(URL.createObjectURL(makeZip(entries)));
      el.zip.download = "facecraft-headshots.zip";
      el.zip.textContent = `Download ZIP (${entries.length} ${entries.length === 1 ? "photo" : "photos"})`;
      el.zip.hidden = false;
    }
    const summary = `Finished: ${entries.length} of ${files.length} photos processed${failed ? `, ${failed} failed (see the list)` : ""}.`;
    say(summary, entries.length ? (failed ? "" : "ok") : "error");
  }

  function uniqueName(entries, name) {
    const taken = new Set(entries.map((e) => e.name));
    if (!taken.has(name)) return name;
    const dot = name.lastIndexOf(".");
    for (let n = 2; ; n += 1) {
      const candidate = `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
      if (!taken.has(candidate)) return candidate;
    }
  }

  // ---- ZIP (stored: the images are compressed already) ---------------------------------------------------
  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(bytes) {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i += 1) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  function makeZip(entries) {
    const now = new Date();
    const time = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
    const date = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
    const encoder = new TextEncoder();
    const parts = [];
    const central = [];
    let offset = 0;
    for (const { name, data } of entries) {
      const nameBytes = encoder.encode(name);
      const crc = crc32(data);
      const local = new DataView(new ArrayBuffer(30));
      local.setUint32(0, 0x04034b50, true);
      local.setUint16(4, 20, true);
      local.setUint16(6, 0x0800, true); // UTF-8 names
      local.setUint16(8, 0, true); // stored
      local.setUint16(10, time, true);
      local.setUint16(12, date, true);
      local.setUint32(14, crc, true);
      local.setUint32(18, data.length, true);
      local.setUint32(22, data.length, true);
      local.setUint16(26, nameBytes.length, true);
      local.setUint16(28, 0, true);
      parts.push(local, nameBytes, data);
      const dir = new DataView(new ArrayBuffer(46));
      dir.setUint32(0, 0x02014b50, true);
      dir.setUint16(4, 20, true);
      dir.setUint16(6, 20, true);
      dir.setUint16(8, 0x0800, true);
      dir.setUint16(10, 0, true);
      dir.setUint16(12, time, true);
      dir.setUint16(14, date, true);
      dir.setUint32(16, crc, true);
      dir.setUint32(20, data.length, true);
      dir.setUint32(24, data.length, true);
      dir.setUint16(28, nameBytes.length, true);
      dir.setUint32(42, offset, true);
      central.push(dir, nameBytes);
      offset += 30 + nameBytes.length + data.length;
    }
    const centralSize = central.reduce((s, p) => s + p.byteLength, 0);
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, entries.length, true);
    end.setUint16(10, entries.length, true);
    end.setUint32(12, centralSize, true);
    end.setUint32(16, offset, true);
    return new Blob([...parts, ...central, end], { type: "application/zip" });
  }

  // ---- wiring --------------------------------------------------------------------------------------------
  async function onSubmit(event) {
    event.preventDefault();
    if (state.working || state.files.length === 0) return;
    if (!checkSettings()) return;
    state.working = true;
    updateButtons();
    el.form.setAttribute("aria-busy", "true");
    const files = state.files.slice();
    resetResults();
    try {
      if (files.length === 1) await runSingle(files[0]);
      else await runBatch(files);
    } finally {
      state.working = false;
      el.form.removeAttribute("aria-busy");
      updateButtons();
    }
  }

  function init() {
    el.form.addEventListener("submit", onSubmit);
    el.showBands.addEventListener("change", () => { el.bands.hidden = !el.showBands.checked || el.compliance.hidden; });
    el.makeSheet.addEventListener("click", makeSheet);
    el.preset.addEventListener("change", () => applyPreset(el.preset.value));
    for (const input of [el.width, el.height, el.background, el.transparent, el.oval, el.margin, el.format, el.maxKb]) {
      input.addEventListener("input", onSettingEdited);
      input.addEventListener("change", () => { input.removeAttribute("aria-invalid"); onSettingEdited(); });
    }
    el.files.addEventListener("change", () => setFiles(el.files.files));
    el.clear.addEventListener("click", () => {
      el.files.value = "";
      setFiles([]);
      el.files.focus();
    });
    for (const name of ["dragenter", "dragover"]) {
      el.drop.addEventListener(name, (event) => {
        event.preventDefault();
        if (!state.working) el.drop.classList.add("dragging");
      });
    }
    for (const name of ["dragleave", "drop"]) {
      el.drop.addEventListener(name, () => el.drop.classList.remove("dragging"));
    }
    el.drop.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!state.working && event.dataTransfer && event.dataTransfer.files.length) setFiles(event.dataTransfer.files);
    });
    el.keyForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = el.keyInput.value.trim();
      if (!key) { el.keyInput.setAttribute("aria-invalid", "true"); el.keyInput.focus(); return; }
      el.keyInput.removeAttribute("aria-invalid");
      storeKey(key);
      say("Checking the key…", "working");
      if (await loadPresets()) {
        el.keyInput.value = "";
        el.keyForget.hidden = false;
        el.keyTitle.textContent = "API key in use";
        say("Key accepted. Choose a photo to begin.", "ok");
      }
    });
    el.keyForget.addEventListener("click", () => {
      storeKey("");
      el.keyInput.value = "";
      state.ready = false;
      updateButtons();
      showKeyPanel(false);
    });
    syncControls();
    updateButtons();
    loadPresets().then((ok) => {
      // A key kept from earlier in this tab: offer to forget it.
      if (ok && storedKey()) {
        el.keyPanel.hidden = false;
        el.keyForget.hidden = false;
        el.keyTitle.textContent = "API key in use";
      }
    });
  }

  init();
})();
