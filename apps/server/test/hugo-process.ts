import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Message } from "@hugo/protocol";

/** `apps/server/bin/hugo.js`, the binary `npm start` runs. */
export const HUGO_BIN = path.resolve(import.meta.dirname, "../bin/hugo.js");

export interface HugoProcess {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/** Starts `hugo serve` as a real process, as `npm start` does, and waits for its banner. */
export async function startHugoProcess(env: Record<string, string>): Promise<HugoProcess> {
  const child = spawn(process.execPath, [HUGO_BIN, "serve"], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner:\n${out}`)), 30_000);
    const check = () => {
      const m = /Hugo is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
  return { child, output: () => out, url };
}

/** The process's exit code (null when a signal ended it), once it has exited. */
export const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve(child.exitCode)
      : child.once("exit", resolve),
  );

/** Every message of a conversation, oldest first, paged the Crisp way (`timestamp_before`). */
export async function listAllMessages(
  url: string,
  token: string,
  websiteId: string,
  sessionId: string,
): Promise<Message[]> {
  const all: Message[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await fetch(
      `${url}/v1/website/${websiteId}/conversation/${sessionId}/messages${before ? `?timestamp_before=${before}` : ""}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const messages = ((await page.json()) as { data: Message[] }).data;
    all.unshift(...messages);
    if (messages.length < 50) return all;
    before = messages[0]!.timestamp;
  }
}
