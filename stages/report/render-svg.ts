/**
 * Renders vega-lite specs to SVG strings in Node (vega-lite compile -> vega View with the
 * headless 'none' renderer -> toSVG). Imports vega statically: load this module only with
 * `await import(...)` from a stage's `run` or a command action.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * vega numbers clip paths and gradients from 1 in every SVG it renders, so two charts inlined
 * in one page would share ids and clip each other. Prefixing every id keeps them apart.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
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
