// fixtures.mjs — fake devices for browser tests: each person's tone (WAV) and solid-colour
// camera (Y4M) for Chromium's file-backed fake capture, one Chromium per person (fake
// devices are per process), and sampling the mean colour a page draws from a video.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS } from './helpers.mjs';

/* A 48 kHz mono 16-bit WAV of a sine tone (Chrome loops it). */
export function wav(path, freq, amplitude) {
  const rate = 48000, seconds = 2, n = rate * seconds;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    b.writeInt16LE(Math.round(amplitude * 32767 * Math.sin(2 * Math.PI * freq * i / rate)), 44 + i * 2);
  writeFileSync(path, b);
}

/* A Y4M clip of one solid colour (Y, U, V), 160x120, 10 frames. */
export function y4m(path, [y, u, v], { w = 160, h = 120, frames = 10 } = {}) {
  const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) {
    parts.push(Buffer.from('FRAME\n'));
    parts.push(Buffer.alloc(w * h, y), Buffer.alloc(w * h / 4, u), Buffer.alloc(w * h / 4, v));
  }
  writeFileSync(path, Buffer.concat(parts));
}

/* The YUV (BT.601, studio range: what Chromium assumes for the fake camera's frames) of an
 * RGB colour, so that what a page draws of the video comes out near that RGB. */
export function rgbToYuv([r, g, b]) {
  const clamp = (x) => Math.max(0, Math.min(255, Math.round(x)));
  return [clamp(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
    clamp(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255),
    clamp(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)];
}

/* Four people far apart in colour and tone (tones an octave apart or more, the loudest
 * first). */
export const PEOPLE = [
  { name: 'Red', freq: 440, amp: 0.7, rgb: [220, 30, 30] },
  { name: 'Green', freq: 880, amp: 0.25, rgb: [30, 200, 30] },
  { name: 'Blue', freq: 1320, amp: 0.1, rgb: [30, 30, 220] },
  { name: 'Yellow', freq: 1760, amp: 0.05, rgb: [220, 220, 30] },
];

/* Writes each person's WAV and Y4M into dir (as <name>.wav and <name>.y4m). */
export function writeDevices(dir, people) {
  for (const p of people) {
    wav(join(dir, `${p.name}.wav`), p.freq, p.amp);
    y4m(join(dir, `${p.name}.y4m`), p.yuv || rgbToYuv(p.rgb));
  }
}

/* A Chromium whose fake microphone and camera are that person's files in dir. */
export function launchAs(dir, p, extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_FLAGS,
    `--use-file-for-fake-audio-capture=${join(dir, `${p.name}.wav`)}`,
    `--use-file-for-fake-video-capture=${join(dir, `${p.name}.y4m`)}`, ...extraArgs] });
}

/* What Chromium's fake screen (getDisplayMedia with --use-fake-device-for-media-stream,
 * 1280x720) looks like on average: dark green, far from every camera above. */
export const FAKE_SCREEN = [3, 142, 1];

/* The mean [r, g, b] of the first video (or img) element `selector` matches in the page,
 * drawn into a small canvas, or null while it has no frame. */
export function meanColour(page, selector) {
  return page.evaluate((sel) => {
    const v = document.querySelector(sel);
    if (!v) return null;
    if (v instanceof HTMLImageElement ? !v.complete || !v.naturalWidth : !v.videoWidth || v.readyState < 2)
      return null;
    const c = document.createElement('canvas');
    c.width = 32;
    c.height = 24;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, 32, 24);
    const d = g.getImageData(0, 0, 32, 24).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
    return sum.map((s) => Math.round(s / (d.length / 4)));
  }, selector);
}

/* Whether a sampled colour is `want` within tol on every channel. */
export const colourNear = (got, want, tol = 40) =>
  !!got && got.every((c, k) => Math.abs(c - want[k]) <= tol);

/* Frames the video element `selector` matches has shown so far (null if there is none). */
export function framesShown(page, selector) {
  return page.evaluate((sel) => {
    const v = document.querySelector(sel);
    return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null;
  }, selector);
}
