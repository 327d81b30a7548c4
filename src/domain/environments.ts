/**
 * The environments of the delivery pipeline and the legal promotion paths between them.
 * Pure data: shared by workflows, activities and configuration.
 */
/** The seed's environments, the default pipeline's (a declared pipeline names its own, `src/domain/pipeline.ts`). */
export const ENVIRONMENTS = ['dev', 'stage', 'prod'] as const;
/** An environment's name: one of the pipeline's environments (the seed's: dev, stage, prod). */
export type Environment = string;

/** The only promotions the pipeline allows: each environment receives what the previous one proved. */
export const PROMOTIONS = [
  { source: 'dev', target: 'stage' },
  { source: 'stage', target: 'prod' },
] as const satisfies readonly { source: Environment; target: Environment }[];

/** Whether `value` names one of the environments (`order`, default the seed's). */
export function isEnvironment(value: unknown, order: readonly string[] = ENVIRONMENTS): value is Environment {
  return typeof value === 'string' && order.includes(value);
}

/** A promotion goes from an environment to the next one in the pipeline's order (default: the seed's). */
export function isLegalPromotion(
  source: Environment,
  target: Environment,
  order: readonly string[] = ENVIRONMENTS,
): boolean {
  const i = order.indexOf(source);
  return i >= 0 && order[i + 1] === target;
}

/** The legal promotions of an order: `dev→stage or stage→prod`. */
export function promotionPaths(order: readonly string[] = ENVIRONMENTS): string {
  const hops = order.slice(1).map((target, i) => `${order[i]}→${target}`);
  return hops.length <= 1 ? (hops[0] ?? '') : `${hops.slice(0, -1).join(', ')} or ${hops[hops.length - 1]}`;
}
