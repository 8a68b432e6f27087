// Byte-for-byte comparison with the libraries CAT-Seg's augmentation calls (Pillow's resize,
// OpenCV's HSV conversions), when a Python with them is on this machine. Neither is a
// dependency: without them these tests skip, and the hand-computed cases in transforms.test.ts
// and color_aug.test.ts still pin the arithmetic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Rng } from '../../../src/data/rng.js';
import { hsvToRgbInPlace, rgbToHsvInPlace } from '../../../src/data/transforms/hsv.js';
import { resizeBilinearPil } from '../../../src/data/transforms/pil_resize.js';

function findPython(modules: string): string | null {
  for (const exe of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(exe, ['-c', `import ${modules}`], { stdio: 'ignore', timeout: 20_000 });
    if (r.status === 0) return exe;
  }
  return null;
}

function runPython(exe: string, script: string, input: Uint8Array): Uint8Array {
  const r = spawnSync(exe, ['-c', script], { input, maxBuffer: 1 << 28, timeout: 60_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr?.toString()}`);
  return new Uint8Array(r.stdout);
}

const pilPython = findPython('PIL');
const cvPython = findPython('cv2, numpy');

// Reads (w, h, ow, oh) + RGB bytes per case from stdin; writes PIL's BILINEAR resizes.
const PIL_SCRIPT = `
import sys, struct
from PIL import Image
data = sys.stdin.buffer.read(); o = 0; out = []
while o < len(data):
    w, h, ow, oh = struct.unpack_from('<4i', data, o); o += 16
    im = Image.frombytes('RGB', (w, h), data[o:o + w * h * 3]); o += w * h * 3
    out.append(im.resize((ow, oh), Image.BILINEAR).tobytes())
sys.stdout.buffer.write(b''.join(out))
`;

describe('reference libraries', () => {
  it('resizeBilinearPil equals PIL Image.resize(BILINEAR)', { skip: pilPython ? false : 'no Python with Pillow' }, () => {
    // Any difference in taps, normalisation, fixed-point rounding or pass order shows up here.
    const rng = Rng.for(12);
    const cases = [[640, 480, 512, 384], [300, 200, 576, 384], [1000, 100, 1333, 133], [97, 61, 23, 14], [31, 17, 90, 17], [50, 50, 50, 7]];
    const parts: Uint8Array[] = [];
    const inputs = cases.map(([w, h, ow, oh]) => {
      const img = Uint8Array.from({ length: w! * h! * 3 }, () => rng.int(256));
      parts.push(new Uint8Array(Int32Array.from([w!, h!, ow!, oh!]).buffer), img);
      return img;
    });
    const ref = runPython(pilPython!, PIL_SCRIPT, Buffer.concat(parts));
    let o = 0;
    cases.forEach(([w, h, ow, oh], i) => {
      const want = ref.subarray(o, o + ow! * oh! * 3);
      o += want.length;
      const got = resizeBilinearPil(inputs[i]!, w!, h!, 3, ow!, oh!);
      assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${w}x${h} -> ${ow}x${oh}`);
    });
    assert.equal(o, ref.length);
  });

  it('rgbToHsvInPlace / hsvToRgbInPlace equal cv2.cvtColor RGB2HSV / HSV2RGB', { skip: cvPython ? false : 'no Python with OpenCV' }, () => {
    // 45 columns: 32 through the SIMD loop, 13 through the scalar loop of HSV2RGB.
    const w = 45, h = 40;
    const rng = Rng.for(13);
    const rgb = Uint8Array.from({ length: w * h * 3 }, () => rng.int(256));
    const script = `
import sys, numpy as np, cv2
a = np.frombuffer(sys.stdin.buffer.read(), np.uint8).reshape(${h}, ${w}, 3)
hsv = cv2.cvtColor(a, cv2.COLOR_RGB2HSV)
sys.stdout.buffer.write(hsv.tobytes() + cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).tobytes())
`;
    const ref = runPython(cvPython!, script, rgb);
    const hsv = rgb.slice();
    rgbToHsvInPlace(hsv, w * h);
    assert.ok(Buffer.from(hsv).equals(Buffer.from(ref.subarray(0, w * h * 3))), 'RGB -> HSV');
    hsvToRgbInPlace(hsv, w, h);
    assert.ok(Buffer.from(hsv).equals(Buffer.from(ref.subarray(w * h * 3))), 'HSV -> RGB');
  });
});
