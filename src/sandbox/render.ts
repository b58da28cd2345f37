import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { OutputFormat } from '../upstream/flux.ts';

// Finished files are kept in the small LRU below; libvips' own cache would only hold memory.
sharp.cache(false);

export type RenderSpec = {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  format: OutputFormat;
  /** jpg/webp only; png ignores it like upstream. */
  quality?: number;
};

// sharp's own default, made explicit so a sharp upgrade cannot change the bytes silently.
const DEFAULT_QUALITY = 80;

type Rgb = [number, number, number];

/** A small PRNG (mulberry32): the same seed gives the same scene on every machine. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function hsl(hue: number, saturation: number, lightness: number): Rgb {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [channel(0), channel(8), channel(4)];
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

type Glow = { x: number; y: number; radius: number; color: Rgb; strength: number };
type Ridge = { base: number; waves: { amp: number; freq: number; phase: number }[]; color: Rgb };

/**
 * A landscape made from prompt+seed: a sky gradient, a few glowing suns or moons and layered
 * hills. Coordinates are relative, so one prompt+seed draws the same scene at every size.
 */
export function renderRaw(prompt: string, seed: number, width: number, height: number): Buffer {
  const digest = createHash('sha256').update(`${prompt}\u0000${seed}`).digest();
  const random = createRandom(digest.readUInt32BE(0));
  const hue = random() * 360;
  const skyTop = hsl(hue, 0.55, 0.2 + random() * 0.2);
  const skyBottom = hsl((hue + 30 + random() * 60) % 360, 0.7, 0.6 + random() * 0.2);
  const glows: Glow[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
    x: random(),
    y: 0.15 + random() * 0.4,
    radius: 0.04 + random() * 0.12,
    color: hsl((hue + 180 + random() * 60) % 360, 0.9, 0.75),
    strength: 0.6 + random() * 0.4,
  }));
  const ridges: Ridge[] = Array.from({ length: 2 + Math.floor(random() * 3) }, (_, layer) => ({
    base: 0.5 + layer * 0.12 + random() * 0.08,
    waves: Array.from({ length: 3 }, (_unused, octave) => ({
      amp: (0.06 / (octave + 1)) * (0.5 + random()),
      freq: (octave + 1) * (2 + random() * 4),
      phase: random() * Math.PI * 2,
    })),
    color: hsl((hue + 200 + layer * 15) % 360, 0.35, 0.32 - layer * 0.06),
  }));

  // Per column: the first row each ridge covers (back to front).
  const ridgeTops = ridges.map((ridge) => {
    const tops = new Float64Array(width);
    for (let x = 0; x < width; x++) {
      const u = x / width;
      let y = ridge.base;
      for (const wave of ridge.waves) {
        y += wave.amp * Math.sin(u * wave.freq * Math.PI + wave.phase);
      }
      tops[x] = y * height;
    }
    return tops;
  });

  const pixels = Buffer.alloc(width * height * 3);
  const minSide = Math.min(width, height);
  for (let y = 0; y < height; y++) {
    const sky = mix(skyTop, skyBottom, y / height);
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      // The frontmost ridge that covers the pixel hides everything behind it.
      let layer = ridges.length - 1;
      while (layer >= 0 && y < (ridgeTops[layer]?.[x] ?? height)) {
        layer--;
      }
      const ridge = ridges[layer];
      if (ridge !== undefined) {
        // Darker with depth below the crest, like haze lifting off the valley.
        const depth = Math.min(1, (y - (ridgeTops[layer]?.[x] ?? 0)) / (height * 0.5));
        const shade = 1 - depth * 0.35;
        pixels[offset] = ridge.color[0] * shade;
        pixels[offset + 1] = ridge.color[1] * shade;
        pixels[offset + 2] = ridge.color[2] * shade;
        continue;
      }
      let [red, green, blue] = sky;
      for (const glow of glows) {
        const dx = (x - glow.x * width) / (glow.radius * minSide);
        const dy = (y - glow.y * height) / (glow.radius * minSide);
        const distance = dx * dx + dy * dy;
        const light = (distance < 1 ? 1 : Math.exp(-(distance - 1) * 0.35) * 0.7) * glow.strength;
        red += (glow.color[0] - red) * light;
        green += (glow.color[1] - green) * light;
        blue += (glow.color[2] - blue) * light;
      }
      pixels[offset] = red;
      pixels[offset + 1] = green;
      pixels[offset + 2] = blue;
    }
  }
  return pixels;
}

export async function encodeImage(spec: RenderSpec): Promise<Buffer> {
  const raw = renderRaw(spec.prompt, spec.seed, spec.width, spec.height);
  const image = sharp(raw, { raw: { width: spec.width, height: spec.height, channels: 3 } });
  const quality = spec.quality ?? DEFAULT_QUALITY;
  switch (spec.format) {
    case 'jpg':
      return image.jpeg({ quality }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
  }
}

/** Rendered files by spec, least recently used dropped first; concurrent asks share one render. */
export function createRenderCache(maxEntries = 32) {
  const entries = new Map<string, Promise<Buffer>>();
  return {
    render(spec: RenderSpec): Promise<Buffer> {
      const key = JSON.stringify([
        spec.prompt,
        spec.seed,
        spec.width,
        spec.height,
        spec.format,
        spec.quality ?? null,
      ]);
      const cached = entries.get(key);
      if (cached !== undefined) {
        entries.delete(key);
        entries.set(key, cached);
        return cached;
      }
      const rendering = encodeImage(spec);
      rendering.catch(() => entries.delete(key));
      entries.set(key, rendering);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) {
          break;
        }
        entries.delete(oldest);
      }
      return rendering;
    },
    get size(): number {
      return entries.size;
    },
  };
}
export type RenderCache = ReturnType<typeof createRenderCache>;
