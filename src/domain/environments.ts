/**
 * The environments of the delivery pipeline and the legal promotion paths between them.
 * Pure data: shared by workflows, activities and configuration.
 */
export const ENVIRONMENTS = ['dev', 'stage', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The only promotions the pipeline allows: each environment receives what the previous one proved. */
export const PROMOTIONS = [
  { source: 'dev', target: 'stage' },
  { source: 'stage', target: 'prod' },
] as const satisfies readonly { source: Environment; target: Environment }[];

export function isEnvironment(value: unknown): value is Environment {
  return typeof value === 'string' && (ENVIRONMENTS as readonly string[]).includes(value);
}

export function isLegalPromotion(source: Environment, target: Environment): boolean {
  return PROMOTIONS.some((p) => p.source === source && p.target === target);
}
