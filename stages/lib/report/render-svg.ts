/**
 * Renders vega-lite specs to SVG strings in Node (vega-lite compile -> vega View with the
 * headless 'none' renderer -> toSVG). Imports vega statically: load this module only with
 * `await import(...)` from a stage's `run` or a command action.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * vega numbers clip paths from 1 in every SVG it renders, and gradients from a counter that
 * lives as long as the process, so two charts inlined in one page would share ids (and clip
 * each other) and the same chart would get different ids in different runs. Renaming every id
 * to `<prefix>-<order of first appearance>` fixes both: ids unique per page, bytes reproducible.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const names = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) if (!names.has(m[1])) names.set(m[1], `${prefix}-${names.size + 1}`);
  const rename = (id: string): string => names.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${rename(id)}"`);
}

export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const { spec: vegaSpec } = compile(spec);
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return scopeSvgIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}
