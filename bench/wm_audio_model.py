#!/usr/bin/env python3
"""Model of candidate audio watermark cell designs, for choosing the next one.

    python3 bench/wm_audio_model.py CLIP_DIR [DESIGN ...]

CLIP_DIR holds 16-bit WAV clips (bench/wm_audio.sh leaves the bench's in OUT/src); names containing
"speech" count as speech, the rest as music. A DESIGN is SLOT_SECONDS,BANDS,SPLIT[,FRAME_SECONDS]:
cells of SLOT_SECONDS x one of BANDS bands spaced evenly in log-frequency over 700-3400 Hz, and
SPLIT sub-bands per cell:
  1  the cell's mean log power moves by +-m dB (the engine's design); the detector removes the band
     mean of each slot, the 1/distance-weighted mean of the same band two slots either side and half
     the adjacent bands' residual, as wm_audio_detect.c does;
  2  the cell's lower half moves by +m dB and its upper half by -m dB (times the cell's sign); the
     detector reads lower minus upper and removes the same neighbouring-slot mean;
  4  four quarter bands, two up and two down in a keyed order per cell.
FRAME_SECONDS (default 0.03) sets the FFT frames of both sides, as the engine's FRAME_SEC.
Default designs: the engine's (0.08,16,1) and the half-band split with 80, 60 and 40 ms slots.

Each clip is marked in Python (sqrt-Hann STFT, 50% overlap, the change synthesised alone, random
signs) with m set so that the change is 30 dB below the clip (SNR), then read back as the design's
detector would, with the slot grid known. Printed per content and design: rho, the correlation of a
cell's whitened reading with its sign (after the detector's per-slot activity normalisation and
clip), and rate = cells per second x rho^2, which is what a decoder can gather per second of audio
at equal SNR (larger is better; 5 s of audio carry 5 x rate of z^2 over all coded bits).

It leaves out the engine's band and bin weights, informed embedding, codecs and the search over
time and frequency, so it ranks designs; it does not predict exact-payload counts. Needs
python3-numpy.
"""
import glob
import os
import sys
import wave

import numpy as np

F_LO, F_HI, SNR_DB, PERIOD = 700.0, 3400.0, 30.0, 60


def read_wav(path):
    with wave.open(path) as w:
        if w.getsampwidth() != 2:
            raise SystemExit(f"{path}: 16-bit WAV only")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
        return x.reshape(-1, w.getnchannels()).mean(axis=1) / 32768.0, w.getframerate()


def frame_length(rate, frame_sec):
    return 1 << int(np.ceil(np.log2(rate * frame_sec)))


def sub_band_of_bins(freqs, bands, split):
    """Band (-1 outside 700-3400 Hz) and sub-band of each FFT bin, sub-bands evenly in log-frequency."""
    edges = F_LO * (F_HI / F_LO) ** (np.arange(bands + 1) / bands)
    b = np.searchsorted(edges, freqs, side="right") - 1
    inside = (b >= 0) & (b < bands)
    bc = np.clip(b, 0, bands - 1)
    pos = np.log(np.maximum(freqs, 1.0) / edges[bc]) / np.log(edges[bc + 1] / edges[bc])
    return np.where(inside, b, -1), np.clip((pos * split).astype(int), 0, split - 1)


def sub_band_signs(rng, bands, split):
    """Per block slot and band, the sign of each sub-band (+1 for the whole cell when split is 1)."""
    if split == 1:
        return np.ones((PERIOD, bands, 1))
    base = np.array([1.0] * (split // 2) + [-1.0] * (split // 2))
    if split == 2:
        return np.broadcast_to(base, (PERIOD, bands, 2)).copy()
    return np.array([[rng.permutation(base) for _ in range(bands)] for _ in range(PERIOD)])


def change(x, rate, design, signs, pattern):
    """The change a mark of m = 1 dB makes to x (the engine's STFT: sqrt-Hann, 50% overlap)."""
    slot, bands, split, frame_sec = design
    n = frame_length(rate, frame_sec)
    hop = n // 2
    win = np.sin(np.pi * (np.arange(n) + 0.5) / n)
    pad = np.concatenate([np.zeros(hop), x, np.zeros(n)])
    b, h = sub_band_of_bins(np.arange(n // 2 + 1) * rate / n, bands, split)
    inside = b >= 0
    out = np.zeros_like(pad)
    for k in range((len(pad) - n) // hop):
        spec = np.fft.rfft(pad[k * hop:k * hop + n] * win)
        j = int((k * hop + n / 2 - hop) / rate / slot) % PERIOD
        gain = np.ones(len(spec))
        gain[inside] = 10 ** (signs[j][b[inside]] * pattern[j][b[inside], h[inside]] / 20)
        out[k * hop:k * hop + n] += np.fft.irfft(spec * (gain - 1), n) * win
    return out[hop:hop + len(x)]


def read_back(x, rate, design, signs, pattern):
    """rho: correlation of each cell's whitened reading with its sign."""
    slot, bands, split, frame_sec = design
    n = frame_length(rate, frame_sec)
    hop = n // 4
    frames = (len(x) - n) // hop
    idx = np.arange(n)[None, :] + hop * np.arange(frames)[:, None]
    logp = np.log2(np.abs(np.fft.rfft(x[idx] * np.hanning(n), axis=1)) ** 2 + 1e-9)
    b, h = sub_band_of_bins(np.arange(n // 2 + 1) * rate / n, bands, split)
    slot_of = ((np.arange(frames) * hop + n / 2) / rate / slot).astype(int)
    slots = slot_of[-1]
    per_frame = np.zeros((frames, bands, split))
    for band in range(bands):
        for sub in range(split):
            sel = (b == band) & (h == sub)
            if sel.any():
                per_frame[:, band, sub] = logp[:, sel].mean(axis=1)
    cells = np.array([per_frame[slot_of == j].mean(axis=0) for j in range(slots)])
    if split == 1:
        a = cells[:, :, 0] - cells[:, :, 0].mean(axis=1, keepdims=True)
    else:
        a = np.array([(cells[j] * pattern[j % PERIOD]).sum(axis=1) for j in range(slots)])
    r = np.array([a[j] - (a[j - 1] + a[j + 1] + 0.5 * (a[j - 2] + a[j + 2])) / 3.0 for j in range(2, slots - 2)])
    if split == 1:
        adjacent = np.zeros_like(r)
        adjacent[:, 1:-1] = 0.5 * (r[:, :-2] + r[:, 2:])
        adjacent[:, 0], adjacent[:, -1] = r[:, 1], r[:, -2]
        r = r - 0.5 * adjacent
    s = np.array([signs[j % PERIOD] for j in range(2, slots - 2)])
    r = np.clip(r / (np.abs(r).mean(axis=1, keepdims=True) + 1e-9), -2.5, 2.5)
    return (s * r).mean() / np.sqrt((r ** 2).mean())


def parse(text):
    v = [float(t) for t in text.split(",")]
    if len(v) not in (3, 4) or int(v[2]) not in (1, 2, 4):
        raise SystemExit(f"bad design {text!r}: SLOT_SECONDS,BANDS,SPLIT[,FRAME_SECONDS] with SPLIT 1, 2 or 4")
    return (v[0], int(v[1]), int(v[2]), v[3] if len(v) == 4 else 0.03)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    clips = sorted(glob.glob(os.path.join(sys.argv[1], "*.wav")))
    if not clips:
        sys.exit(f"no WAV clips in {sys.argv[1]}")
    designs = [parse(t) for t in sys.argv[2:]] or [parse(t) for t in ("0.08,16,1", "0.08,16,2", "0.06,16,2",
                                                                          "0.04,16,2")]
    results = {}
    for path in clips:
        x, rate = read_wav(path)
        kind = "speech" if "speech" in os.path.basename(path) else "music"
        for design in designs:
            rng = np.random.default_rng(1)
            signs = rng.choice([-1.0, 1.0], size=(PERIOD, design[1]))
            pattern = sub_band_signs(rng, design[1], design[2])
            d = change(x, rate, design, signs, pattern)
            m = 10 ** ((10 * np.log10(np.sum(x ** 2) / np.sum(d ** 2)) - SNR_DB) / 20)
            results.setdefault((kind, design), []).append(read_back(x + m * d, rate, design, signs, pattern))
    print(f"| content | slot s | bands | split | frame s | clips | rho | rate (cells/s x rho^2) at SNR {SNR_DB:.0f} dB |")
    print("|---|---|---|---|---|---|---|---|")
    for (kind, (slot, bands, split, frame_sec)), rho in sorted(results.items()):
        rho = np.array(rho)
        print(f"| {kind} | {slot} | {bands} | {split} | {frame_sec} | {len(rho)} | {rho.mean():.3f} | "
              f"{np.mean(bands / slot * rho ** 2):.1f} |")


if __name__ == "__main__":
    main()
