/** A y axis of whole numbers ending on a round value: 3 to 5 ticks, 1, 2 or 5 × 10ⁿ apart, at least 0–4. */
export function axis(max: number): { top: number; ticks: number[] } {
  let step = 1;
  if (max > 4) {
    const raw = max / 4;
    const pow = 10 ** Math.floor(Math.log10(raw));
    step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  }
  const top = max <= 4 ? 4 : Math.ceil(max / step) * step;
  return { top, ticks: Array.from({ length: top / step + 1 }, (_, i) => i * step) };
}
