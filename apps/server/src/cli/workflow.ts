import fs from "node:fs";
import {
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Command,
  optionList,
  UsageError,
} from "./command.ts";
import { remote } from "./remote.ts";

/** `hugo workflow list|export|import|deploy`: workflows as files, for version control and CI. */

const one = (positionals: string[], what: string): string => {
  const [value, ...extra] = positionals;
  if (!value) throw new UsageError(`name the ${what}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  return value;
};

export const workflowList: Command = {
  name: "workflow list",
  summary: "List the website's workflows with their deployed version.",
  synopsis: "[options]",
  help: optionList(CONNECTION_HELP),
  options: CONNECTION_OPTIONS,
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const list = await remote(ctx).workflows.list();
    ctx.print(list, (all) =>
      all.length === 0
        ? "No workflows."
        : [
            `${"ID".padEnd(45)}  ${"DEPLOYED".padEnd(10)}  NAME`,
            ...all.map((w) => {
              const deployed = w.deployed_version === null ? "draft" : `v${w.deployed_version}`;
              const changed = w.has_undeployed_changes && w.deployed_version !== null ? "*" : "";
              return `${w.workflow_id.padEnd(45)}  ${`${deployed}${changed}`.padEnd(10)}  ${w.name}`;
            }),
          ],
    );
    return 0;
  },
};

export const workflowExport: Command = {
  name: "workflow export",
  summary: "Write a workflow's draft as a JSON file (stdout unless --output).",
  synopsis: "<workflow_id> [--output <file>] [options]",
  help: optionList([["--output <file>", "write the file here instead of stdout"], ...CONNECTION_HELP]),
  options: { ...CONNECTION_OPTIONS, output: { type: "string", short: "o" } },
  async run(ctx) {
    const id = one(ctx.positionals, "workflow to export (its scenario_… id)");
    const file = await remote(ctx).workflows.export(id);
    const output = ctx.string("output");
    const text = `${JSON.stringify(file, null, 2)}\n`;
    if (!output) {
      process.stdout.write(text);
      return 0;
    }
    try {
      fs.writeFileSync(output, text);
    } catch (error) {
      throw new CliError(`cannot write ${output}: ${(error as Error).message}`, "write_failed", "output");
    }
    ctx.print({ workflow_id: id, output }, () => `Exported ${file.name} to ${output}.`);
    return 0;
  },
};

export const workflowImport: Command = {
  name: "workflow import",
  summary: "Create a workflow from an exported JSON file (- reads stdin); --deploy deploys it.",
  synopsis: "<file|-> [--deploy] [options]",
  help: optionList([
    ["--deploy", "deploy the imported workflow at once (its graph must validate)"],
    ...CONNECTION_HELP,
  ]),
  options: { ...CONNECTION_OPTIONS, deploy: { type: "boolean" } },
  async run(ctx) {
    const file = one(ctx.positionals, "file to import (or - for stdin)");
    let text: string;
    try {
      text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`, "read_failed");
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${file} is not JSON: ${(error as Error).message}`, "invalid_json");
    }
    const client = remote(ctx);
    // The server validates the file (and names what is wrong in it).
    const created = await client.workflows.import(body as Parameters<typeof client.workflows.import>[0]);
    const deployed = ctx.flag("deploy") ? await client.workflows.deploy(created.workflow_id) : undefined;
    ctx.print({ workflow: created, deployed: deployed ?? null }, (r) => [
      `Imported ${r.workflow.name} as ${r.workflow.workflow_id}.`,
      ...(r.deployed ? [`Deployed version ${r.deployed.version}.`] : []),
    ]);
    return 0;
  },
};

export const workflowDeploy: Command = {
  name: "workflow deploy",
  summary: "Deploy a workflow's draft as its next version (production runs use it at once).",
  synopsis: "<workflow_id> [options]",
  help: optionList(CONNECTION_HELP),
  options: CONNECTION_OPTIONS,
  async run(ctx) {
    const id = one(ctx.positionals, "workflow to deploy (its scenario_… id)");
    const version = await remote(ctx).workflows.deploy(id);
    ctx.print(version, (v) => `Deployed ${v.name} (${v.workflow_id}) as version ${v.version}.`);
    return 0;
  },
};
