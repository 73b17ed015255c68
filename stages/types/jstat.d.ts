/**
 * The part of jstat (https://github.com/jstat/jstat, no bundled types) that defrost uses: the
 * Student t distribution behind the intervals of `stages/lib/statistics.ts`.
 */
declare module 'jstat' {
  interface StudentT {
    /** Quantile: the t with P(T <= t) = p for `dof` degrees of freedom. */
    inv(p: number, dof: number): number;
    /** Cumulative distribution P(T <= t). */
    cdf(t: number, dof: number): number;
  }
  /** The CommonJS module object (Node's ESM loader hands it over as the default export). */
  const jstat: { readonly jStat: { readonly studentt: StudentT } };
  export default jstat;
}
