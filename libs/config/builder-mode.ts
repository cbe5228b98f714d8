import type { BuilderMode } from "./config-types.js";

/** The allowed forms of `builder.mode`, as every message lists them. */
export const builderModeForms = "auto, command, kaniko or delegate:<url>[,<url>…]";

const delegateUrl = /^(openrun\+)?https?:\/\/[^/?#\s:@]+(:\d{1,5})?\/?$/;

/**
 * Parses `builder.mode` text into a `BuilderMode`, or says why it is not
 * one. Delegate URLs must be `http(s)://host[:port]` or
 * `openrun+http(s)://host[:port]` (an OpenRun builder node).
 */
export function parseBuilderMode(text: string): { mode: BuilderMode } | { error: string } {
  switch (text) {
    case "auto":
    case "command":
    case "kaniko":
      return { mode: { kind: text } };
  }
  if (!text.startsWith("delegate:")) {
    return { error: `${JSON.stringify(text)} is not valid: expected ${builderModeForms}` };
  }
  const urls = text.slice("delegate:".length).split(",").map((u) => u.trim());
  for (const url of urls) {
    const port = /:(\d+)\/?$/.exec(url.replace(/^[a-z+]+:\/\//, ""))?.[1];
    if (!delegateUrl.test(url) || (port !== undefined && Number(port) > 65535)) {
      return {
        error: `${JSON.stringify(text)} has an invalid url ${JSON.stringify(url)}: expected http(s)://host:port or openrun+http(s)://host:port`,
      };
    }
  }
  return { mode: { kind: "delegate", urls: urls.map((u) => u.replace(/\/$/, "")) } };
}
