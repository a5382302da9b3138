/** A short two-tone beep with WebAudio (no audio file to download); silent where autoplay is blocked. */
let context: AudioContext | undefined;

export function beep(): void {
  try {
    const Ctor =
      window.AudioContext ??
      (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctor) return;
    context ??= new Ctor();
    const ctx = context;
    if (ctx.state === "suspended") void ctx.resume().catch(() => {});
    const t = ctx.currentTime;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.12, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
    gain.connect(ctx.destination);
    const tone = ctx.createOscillator();
    tone.type = "sine";
    tone.frequency.setValueAtTime(880, t);
    tone.frequency.setValueAtTime(1320, t + 0.12);
    tone.connect(gain);
    tone.start(t);
    tone.stop(t + 0.32);
  } catch {
    // No sound is better than an error in the host page.
  }
}
