import { describe, expect, it } from "vitest";
import { axis } from "./axis.ts";

describe("a chart's y axis", () => {
  it("keeps at least 0–4 for small or empty data", () => {
    expect(axis(0)).toEqual({ top: 4, ticks: [0, 1, 2, 3, 4] });
    expect(axis(3)).toEqual({ top: 4, ticks: [0, 1, 2, 3, 4] });
  });

  it("ends on a round number with evenly spaced whole ticks", () => {
    expect(axis(5)).toEqual({ top: 6, ticks: [0, 2, 4, 6] });
    expect(axis(37)).toEqual({ top: 40, ticks: [0, 10, 20, 30, 40] });
    expect(axis(101)).toEqual({ top: 150, ticks: [0, 50, 100, 150] });
    for (const max of [1, 7, 9, 12, 99, 1234, 98_765]) {
      const { top, ticks } = axis(max);
      expect(top).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(ticks.every((t) => Number.isInteger(t))).toBe(true);
    }
  });
});
