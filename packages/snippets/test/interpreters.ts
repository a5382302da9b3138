import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SnippetId } from "../src/index.ts";

/**
 * The real runtimes the snippets are proven in. A missing one is a failure, never a skip: CI
 * installs them (`.ci/run`: php-cli, php-curl, ruby, curl, python3, python3-requests).
 */
export interface Interpreters {
  node: string;
  /** A Python 3 that imports `requests`: `python3` on the PATH, else the system's. */
  pythonRequests: string;
  python: string;
  php: string;
  ruby: string;
  sh: string;
  curl: string;
}

const works = (command: string, args: string[]) => {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
  return result.status === 0 ? `${result.stdout}${result.stderr}`.trim() : undefined;
};

let found: Interpreters | undefined;

/** Finds every runtime; throws one error naming all that are missing and how to install them. */
export function findInterpreters(): Interpreters {
  if (found) return found;
  const missing: string[] = [];
  const need = (what: string, install: string, candidates: [string, string[]][]) => {
    for (const [command, args] of candidates) if (works(command, args) !== undefined) return command;
    missing.push(`${what} (${install})`);
    return "";
  };
  const curlVersion = works("curl", ["--version"]);
  const [major = 0, minor = 0] = (/^curl (\d+)\.(\d+)/.exec(curlVersion ?? "") ?? []).slice(1).map(Number);
  if (curlVersion && major * 100 + minor < 776)
    missing.push("curl ≥ 7.76 for --fail-with-body (apt-get install curl)");
  const result: Interpreters = {
    node: process.execPath,
    pythonRequests: need("Python 3 with requests", "apt-get install python3-requests", [
      ["python3", ["-c", "import requests"]],
      ["/usr/bin/python3", ["-c", "import requests"]],
    ]),
    python: need("Python 3", "apt-get install python3", [["python3", ["-c", "import urllib.request, json"]]]),
    php: need("PHP with the curl extension", "apt-get install php-cli php-curl", [
      ["php", ["-r", 'exit(function_exists("curl_init") && function_exists("json_encode") ? 0 : 1);']],
    ]),
    ruby: need("Ruby", "apt-get install ruby", [["ruby", ["-e", 'require "json"; require "net/http"']]]),
    sh: need("a POSIX shell", "apt-get install dash", [["sh", ["-c", "exit 0"]]]),
    curl: curlVersion ? "curl" : need("curl", "apt-get install curl", []),
  };
  if (missing.length > 0)
    throw new Error(`The snippet runtimes are missing: ${missing.join("; ")}. CI installs them in .ci/run.`);
  found = result;
  return result;
}

/** The version line of each runtime, for the record. */
export function interpreterVersions(i: Interpreters): Record<string, string> {
  const first = (command: string, args: string[]) => (works(command, args) ?? "?").split("\n")[0]!;
  return {
    node: process.version,
    python: first(i.python, ["--version"]),
    "python (requests)": `${first(i.pythonRequests, ["--version"])}, requests ${first(i.pythonRequests, ["-c", "import requests; print(requests.__version__)"])}`,
    php: first(i.php, ["--version"]),
    ruby: first(i.ruby, ["--version"]),
    curl: first(i.curl, ["--version"]),
  };
}

/** The environment without proxies (they must not intercept loopback), with UTF-8 output whatever the locale. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    PYTHONIOENCODING: "utf-8",
  };
  for (const key of Object.keys(env)) if (/_proxy$/i.test(key)) delete env[key];
  return env;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with arguments, no shell in between; its output as UTF-8. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...cleanEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** Where each snippet's code goes and what runs it. */
const FILES: Record<
  Exclude<SnippetId, "web-sdk" | "html-button">,
  { file: string; runner: keyof Interpreters }
> = {
  curl: { file: "trigger.sh", runner: "sh" },
  node: { file: "trigger.mjs", runner: "node" },
  python: { file: "trigger.py", runner: "pythonRequests" },
  "python-stdlib": { file: "trigger_stdlib.py", runner: "python" },
  php: { file: "trigger.php", runner: "php" },
  ruby: { file: "trigger.rb", runner: "ruby" },
};

export type BackendSnippetId = keyof typeof FILES;
export const BACKEND_SNIPPETS = Object.keys(FILES) as BackendSnippetId[];

/** Writes a backend snippet to a file in a fresh temp folder and runs it with its real interpreter. */
export async function runSnippet(i: Interpreters, id: BackendSnippetId, code: string): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-snippet-"));
  try {
    const file = path.join(dir, FILES[id].file);
    fs.writeFileSync(file, code);
    return await run(i[FILES[id].runner], [file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
