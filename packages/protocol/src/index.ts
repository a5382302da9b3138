export * from "./conversation.ts";
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./management.ts";
export * from "./realtime.ts";
export * from "./workflow.ts";
export * from "./workflow-blocks.ts";
