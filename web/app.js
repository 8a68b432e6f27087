// @ts-check
// The ahs-seg web page: pick or drop an image, name the classes, see the segmentation over the
// photo. Plain ES module, no build step; type-checked by web/tsconfig.json (DOM types only).

/** @typedef {{ name: string, color: [number, number, number], share: number, meanConfidence: number | null }} ClassResult */
/** @typedef {{ width: number, height: number, classes: ClassResult[], labelsPng: string, labelsRaw?: string, seconds: number }} SegmentReply */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const fileInput = /** @type {HTMLInputElement} */ ($('file'));
const drop = $('drop');
const labelsBox = /** @type {HTMLTextAreaElement} */ ($('labels'));
const preset = /** @type {HTMLSelectElement} */ ($('preset'));
const runButton = /** @type {HTMLButtonElement} */ ($('run'));
const opacity = /** @type {HTMLInputElement} */ ($('opacity'));
const opacityValue = $('opacity-value');
const canvas = /** @type {HTMLCanvasElement} */ ($('canvas'));
const hover = $('hover');
const legend = $('legend');
const status = $('status');
const download = /** @type {HTMLAnchorElement} */ ($('download'));
const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));

/** @type {{ file: File | null, photo: ImageData | null, reply: SegmentReply | null, labels: Uint16Array | null }} */
const state = { file: null, photo: null, reply: null, labels: null };
// What the page shows, for scripts and tests that drive it.
Object.assign(window, { ahsSeg: state });

/** @param {string} msg @param {boolean} [error] */
function say(msg, error = false) {
  status.textContent = msg;
  status.classList.toggle('error', error);
}

/** @param {File} file */
async function setImage(file) {
  state.file = file;
  state.reply = null;
  state.labels = null;
  download.hidden = true;
  legend.replaceChildren();
  try {
    const bitmap = await createImageBitmap(file);
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    ctx.drawImage(bitmap, 0, 0);
    state.photo = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    say(`${file.name}: ${bitmap.width}x${bitmap.height}`);
  } catch {
    state.photo = null;
    say(`${file.name} is not an image this browser can show`, true);
  }
  updateButton();
}

function updateButton() {
  runButton.disabled = !state.file || labelsBox.value.trim() === '';
}

/** @param {string} b64 */
function bytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function draw() {
  const { photo, reply, labels } = state;
  if (!photo) return;
  const a = Number(opacity.value) / 100;
  opacityValue.textContent = `${opacity.value}%`;
  if (!reply || !labels) { ctx.putImageData(photo, 0, 0); return; }
  const out = new ImageData(photo.width, photo.height);
  const src = photo.data, dst = out.data;
  for (let i = 0; i < labels.length; i++) {
    const c = reply.classes[labels[i] ?? 0]?.color ?? [0, 0, 0];
    for (let k = 0; k < 3; k++) dst[4 * i + k] = Math.round((1 - a) * (src[4 * i + k] ?? 0) + a * (c[k] ?? 0));
    dst[4 * i + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
}

/** @param {SegmentReply} reply */
function showLegend(reply) {
  legend.replaceChildren(...reply.classes
    .map((c, i) => ({ c, i }))
    .sort((x, y) => y.c.share - x.c.share)
    .map(({ c }) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = `rgb(${c.color.join(',')})`;
      const conf = c.meanConfidence === null ? '' : `, confidence ${(100 * c.meanConfidence).toFixed(0)}%`;
      li.append(sw, `${c.name}: ${(100 * c.share).toFixed(1)}%${conf}`);
      return li;
    }));
}

async function run() {
  if (!state.file) return;
  const body = new FormData();
  body.append('image', state.file);
  body.append('labels', labelsBox.value);
  body.append('raw', '1');
  runButton.disabled = true;
  say('segmenting…');
  try {
    const r = await fetch('/v1/segment', { method: 'POST', body });
    const json = await r.json();
    if (!r.ok) { say(`${json.code}: ${json.message}`, true); return; }
    const reply = /** @type {SegmentReply} */ (json);
    const raw = bytes(reply.labelsRaw ?? '');
    state.labels = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
    state.reply = reply;
    download.href = `data:image/png;base64,${reply.labelsPng}`;
    download.hidden = false;
    showLegend(reply);
    draw();
    say(`${reply.classes.length} classes in ${reply.seconds.toFixed(1)} s`);
  } catch (e) {
    say(`the server did not answer: ${e instanceof Error ? e.message : String(e)}`, true);
  } finally {
    updateButton();
  }
}

canvas.addEventListener('mousemove', (ev) => {
  const { reply, labels } = state;
  if (!reply || !labels) { hover.hidden = true; return; }
  const rect = canvas.getBoundingClientRect();
  const x = Math.floor(((ev.clientX - rect.left) * canvas.width) / rect.width);
  const y = Math.floor(((ev.clientY - rect.top) * canvas.height) / rect.height);
  if (x < 0 || y < 0 || x >= reply.width || y >= reply.height) { hover.hidden = true; return; }
  const c = reply.classes[labels[y * reply.width + x] ?? 0];
  hover.textContent = c ? c.name : '';
  hover.dataset.x = String(x);
  hover.dataset.y = String(y);
  hover.style.left = `${ev.clientX - rect.left + 12}px`;
  hover.style.top = `${ev.clientY - rect.top + 12}px`;
  hover.hidden = false;
});
canvas.addEventListener('mouseleave', () => { hover.hidden = true; });
fileInput.addEventListener('change', () => { const f = fileInput.files?.[0]; if (f) void setImage(f); });
for (const t of ['dragenter', 'dragover']) drop.addEventListener(t, (ev) => { ev.preventDefault(); drop.classList.add('over'); });
for (const t of ['dragleave', 'drop']) drop.addEventListener(t, () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  const f = /** @type {DragEvent} */ (ev).dataTransfer?.files?.[0];
  if (f) void setImage(f);
});
labelsBox.addEventListener('input', updateButton);
opacity.addEventListener('input', draw);
runButton.addEventListener('click', () => void run());

/** @type {Record<string, string[]>} */
let presets = {};
preset.addEventListener('change', () => {
  const list = presets[preset.value];
  if (list) { labelsBox.value = list.join(', '); updateButton(); }
});

async function init() {
  try {
    const m = await (await fetch('/v1/models')).json();
    const model = m.models?.[0];
    $('model').textContent = model ? `model: ${model.name}${model.loaded ? '' : ' (loading)'}` : 'no model';
    presets = await (await fetch('/v1/presets')).json();
    for (const name of Object.keys(presets)) {
      const o = document.createElement('option');
      o.value = name;
      o.textContent = `${name} (${presets[name]?.length} classes)`;
      preset.append(o);
    }
  } catch {
    $('model').textContent = 'server not reachable';
  }
}
void init();

export {}; // an ES module (loaded with type=module): nothing here is global
