export * from "./generate-snippets.ts";
export type { Primitive } from "./literals.ts";
