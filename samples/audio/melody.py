#!/usr/bin/env python3
"""Writes a short synthesised melody (piano-like notes over a bass line) as a WAV file.
Usage: melody.py out.wav [rate] [seconds]"""
import math, struct, sys, wave

out = sys.argv[1]
rate = int(sys.argv[2]) if len(sys.argv) > 2 else 44100
beat = 0.375  # seconds per beat (160 bpm)

def hz(n):  # MIDI note number -> Hz
    return 440.0 * 2 ** ((n - 69) / 12)

# (MIDI note, beats): a phrase in C major, with a repeated-note figure
melody = [(72, 1), (74, 1), (76, 1), (72, 1), (76, 0.5), (76, 1.5), (76, 0.5), (76, 0.5),
          (77, 1), (79, 2), (77, 1), (76, 1), (74, 1), (72, 2), (67, 1), (72, 3)]
bass = [(48, 4), (53, 4), (55, 4), (48, 4)]
length = sum(b for _, b in melody) * beat + 0.5
n = int(length * rate)
left = [0.0] * n
right = [0.0] * n

def note(buf, start, dur, freq, amp, decay, harmonics):
    a = int(start * rate)
    m = min(int((dur + 0.3) * rate), n - a)
    for i in range(m):
        t = i / rate
        env = math.exp(-t * decay) * min(1.0, t / 0.005)
        if t > dur:
            env *= max(0.0, 1.0 - (t - dur) / 0.3)
        s = 0.0
        for k, h in enumerate(harmonics, 1):
            s += h * math.sin(2 * math.pi * freq * k * t)
        buf[a + i] += amp * env * s

t = 0.0
for m, b in melody:
    note(left, t, b * beat * 0.95, hz(m), 0.25, 3.0, [1.0, 0.5, 0.3, 0.15, 0.1])
    note(right, t, b * beat * 0.95, hz(m), 0.22, 3.0, [1.0, 0.5, 0.3, 0.15, 0.1])
    t += b * beat
t = 0.0
for m, b in bass:
    note(left, t, b * beat, hz(m), 0.2, 1.0, [1.0, 0.6, 0.2])
    note(right, t, b * beat, hz(m), 0.25, 1.0, [1.0, 0.6, 0.2])
    t += b * beat

with wave.open(out, "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(rate)
    frames = bytearray()
    for l, r in zip(left, right):
        frames += struct.pack("<hh", int(max(-1, min(1, l)) * 32767), int(max(-1, min(1, r)) * 32767))
    w.writeframes(bytes(frames))
