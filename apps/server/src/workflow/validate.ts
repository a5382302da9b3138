import {
  BLOCKS,
  type BlockDefinition,
  blockWaits,
  type ValidationIssue,
  type WorkflowBlock,
  type WorkflowGraph,
} from "@hugo/protocol";

type Code = ValidationIssue["code"];

const issue = (
  block_id: string | null,
  field: string | null,
  code: Code,
  message: string,
): ValidationIssue => ({
  block_id,
  field,
  code,
  message,
});

const blockName = (block: WorkflowBlock): string => `Block "${block.label?.trim() || block.id}"`;

/** Parses a block's options with its kind's schema; every problem names the block and the field. */
export function parseBlockOptions(
  block: WorkflowBlock,
): { ok: true; options: unknown } | { ok: false; issues: ValidationIssue[] } {
  const definition = definitionOf(block);
  if (!definition) {
    return {
      ok: false,
      issues: [issue(block.id, "kind", "unknown_kind", `${blockName(block)}: unknown kind "${block.kind}"`)],
    };
  }
  const parsed = definition.options.safeParse(block.options ?? {});
  if (parsed.success) return { ok: true, options: parsed.data };
  const issues: ValidationIssue[] = [];
  for (const zi of parsed.error.issues) {
    const path = zi.path.map(String);
    if (zi.code === "unrecognized_keys") {
      for (const key of zi.keys) {
        const field = [...path, key].join(".");
        issues.push(
          issue(
            block.id,
            field,
            "invalid_option",
            `${blockName(block)}: ${field} is not an option of ${block.kind}`,
          ),
        );
      }
      continue;
    }
    const field = path.length > 0 ? path.join(".") : null;
    // zod's wording for a missing value is "Invalid input: expected string, received undefined".
    const text =
      zi.code === "invalid_type" && zi.message.endsWith("received undefined") ? "is required" : zi.message;
    const what = field === null ? "options" : field;
    const sep = /^[a-z]/.test(text) ? " " : ": ";
    issues.push(issue(block.id, field, "invalid_option", `${blockName(block)}: ${what}${sep}${text}`));
  }
  return { ok: false, issues };
}

function definitionOf(block: WorkflowBlock): BlockDefinition | undefined {
  return Object.hasOwn(BLOCKS, block.kind) ? BLOCKS[block.kind] : undefined;
}

const isStart = (block: WorkflowBlock): boolean => definitionOf(block)?.category === "start";

/** The start block, when there is exactly one. */
export function findStart(graph: WorkflowGraph): WorkflowBlock | undefined {
  let found: WorkflowBlock | undefined;
  for (const block of graph.blocks) {
    if (!isStart(block)) continue;
    if (found) return undefined;
    found = block;
  }
  return found;
}

/** Where the edge leaving `blockId` by `handle` leads (the first such edge); the target may not exist. */
export function nextBlockId(graph: WorkflowGraph, blockId: string, handle: string): string | undefined {
  for (const edge of graph.edges) {
    if (edge.from === blockId && (edge.handle ?? "next") === handle) return edge.to;
  }
  return undefined;
}

interface Node {
  block: WorkflowBlock;
  index: number;
  definition: BlockDefinition | undefined;
  /** Parsed options, or undefined when they do not parse. */
  options: { value: unknown } | undefined;
  out: number[];
}

/** Every problem of the graph, in a stable order: graph-wide, then by block, by edge, then structure. */
export function validateGraph(graph: WorkflowGraph): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const blockIssues: ValidationIssue[] = [];
  const edgeIssues: ValidationIssue[] = [];

  // First occurrence of each id wins; later ones are reported and otherwise ignored.
  const nodes: Node[] = [];
  const byId = new Map<string, Node>();
  const starts: Node[] = [];
  for (const block of graph.blocks) {
    if (byId.has(block.id)) {
      blockIssues.push(
        issue(
          block.id,
          "id",
          "duplicate_block",
          `${blockName(block)}: another block already has id "${block.id}"`,
        ),
      );
      continue;
    }
    const parsed = parseBlockOptions(block);
    if (!parsed.ok) blockIssues.push(...parsed.issues);
    const node: Node = {
      block,
      index: nodes.length,
      definition: definitionOf(block),
      options: parsed.ok ? { value: parsed.options } : undefined,
      out: [],
    };
    nodes.push(node);
    byId.set(block.id, node);
    if (node.definition?.category === "start") {
      if (starts.length > 0) {
        blockIssues.push(
          issue(
            block.id,
            null,
            "several_starts",
            `${blockName(block)}: a workflow has one start block, and "${starts[0]!.block.id}" is already one`,
          ),
        );
      }
      starts.push(node);
    }
  }
  if (starts.length === 0) {
    issues.push(issue(null, null, "no_start", "The workflow has no start block"));
  }
  issues.push(...blockIssues);

  const handlesCache = new Map<Node, Set<string>>();
  const handlesOf = (node: Node): Set<string> | undefined => {
    if (!node.definition || !node.options) return undefined;
    let handles = handlesCache.get(node);
    if (!handles) {
      handles = new Set(node.definition.handles(node.options.value));
      handlesCache.set(node, handles);
    }
    return handles;
  };

  const seenOutputs = new Set<string>();
  graph.edges.forEach((edge, i) => {
    const handle = edge.handle ?? "next";
    const from = byId.get(edge.from);
    const to = byId.get(edge.to);
    if (!from) {
      edgeIssues.push(
        issue(
          null,
          `edges[${i}].from`,
          "dangling_edge",
          `Edge ${i} leaves from a missing block "${edge.from}"`,
        ),
      );
    }
    if (!to) {
      edgeIssues.push(
        issue(
          from ? edge.from : null,
          `edges[${i}].to`,
          "dangling_edge",
          `Edge ${i} from "${edge.from}" leads to a missing block "${edge.to}"`,
        ),
      );
    }
    if (from) {
      const handles = handlesOf(from);
      if (handles && !handles.has(handle)) {
        const known = handles.size > 0 ? `: it has ${[...handles].join(", ")}` : ": it has no outputs";
        edgeIssues.push(
          issue(
            edge.from,
            `edges[${i}].handle`,
            "unknown_handle",
            `${blockName(from.block)} has no output "${handle}"${known}`,
          ),
        );
      }
      // JSON keeps the pair unambiguous whatever characters the id and handle hold.
      const output = JSON.stringify([edge.from, handle]);
      if (seenOutputs.has(output)) {
        edgeIssues.push(
          issue(
            edge.from,
            `edges[${i}].handle`,
            "duplicate_edge",
            `${blockName(from.block)}: output "${handle}" already has an edge`,
          ),
        );
      } else {
        seenOutputs.add(output);
      }
    }
    if (to && to.definition?.category === "start") {
      edgeIssues.push(
        issue(
          from ? edge.from : null,
          `edges[${i}].to`,
          "edge_into_start",
          `Edge ${i} leads into the start block "${edge.to}"`,
        ),
      );
    }
    // Structure is checked on every edge between existing blocks, even faulty ones, so one mistake
    // does not cascade into unreachable/loop reports.
    if (from && to) from.out.push(to.index);
  });
  issues.push(...edgeIssues);

  const start = starts.length === 1 ? starts[0]! : undefined;
  if (start) {
    const reached = new Uint8Array(nodes.length);
    const stack = [start.index];
    reached[start.index] = 1;
    while (stack.length > 0) {
      for (const next of nodes[stack.pop()!]!.out) {
        if (!reached[next]) {
          reached[next] = 1;
          stack.push(next);
        }
      }
    }
    for (const node of nodes) {
      if (!reached[node.index]) {
        issues.push(
          issue(
            node.block.id,
            null,
            "unreachable",
            `${blockName(node.block)} cannot be reached from the start block`,
          ),
        );
      }
    }
  }

  for (const cycle of cycles(nodes)) {
    // A block whose waiting we cannot know (unknown kind, bad options) is given the benefit of the doubt.
    const neverWaits = cycle.every((n) => {
      if (!n.definition) return false;
      if (typeof n.definition.waits !== "function") return n.definition.waits === false;
      return n.options !== undefined && blockWaits(n.definition, n.options.value) === false;
    });
    if (!neverWaits) continue;
    const first = cycle[0]!;
    issues.push(
      issue(
        first.block.id,
        null,
        "loop_without_wait",
        `${blockName(first.block)} is in a loop where no block waits (${cycle.map((n) => n.block.id).join(" → ")}): it would run for ever`,
      ),
    );
  }

  if (start && start.block.kind === "start.code") {
    const target = nextBlockId(graph, start.block.id, "next");
    const node = target === undefined ? undefined : byId.get(target);
    if (node && node.block.kind === "action.wait_answer") {
      issues.push(
        issue(
          node.block.id,
          null,
          "code_start_waits",
          `${blockName(node.block)}: a workflow started from code cannot begin by waiting for the visitor's message; send a message first`,
        ),
      );
    }
  }

  return issues;
}

/**
 * Strongly connected components that are cycles (several blocks, or one with an edge to itself),
 * each sorted in graph order and listed by their first block. Iterative Tarjan: no recursion depth
 * limit on long chains.
 */
function cycles(nodes: Node[]): Node[][] {
  const n = nodes.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const found: Node[][] = [];
  let counter = 0;
  // Call stack of [node, position in its out list].
  const work: [number, number][] = [];

  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    work.push([root, 0]);
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const v = frame[0];
      const out = nodes[v]!.out;
      if (frame[1] < out.length) {
        const w = out[frame[1]++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] !== index[v]) continue;
      const component: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || nodes[v]!.out.includes(v)) {
        component.sort((a, b) => a - b);
        found.push(component.map((i) => nodes[i]!));
      }
    }
  }
  return found.sort((a, b) => a[0]!.index - b[0]!.index);
}
