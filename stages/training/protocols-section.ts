/**
 * The report section "Which protocol, and at which setting?" (docs/science.md#beyond-freezing-a-prefix):
 * the protocols beyond a frozen prefix compared per cell with the prefix depths. It plans nothing
 * (the `transfer` runs of every mode are the sweep's own) and adds `protocols.arrow` to
 * `aggregate`; its builder (`protocols-section-job.ts`, loaded on demand: apache-arrow and vega)
 * writes nothing when the study ran no protocol.
 */
import type { ReportSection } from '../lib/report/section.js';
import { PROTOCOL_CHOICES } from '../lib/tables/protocol-tables.js';

/** The section's table in the aggregate instance. */
export const PROTOCOL_OUTPUTS = {
  protocols: PROTOCOL_CHOICES.output({ optional: true }),
} as const;

export const protocolsSection: ReportSection = {
  id: 'protocols',
  stages: [],
  outputs: PROTOCOL_OUTPUTS,
  plan: () => [],
  async load() {
    return (await import('./protocols-section-job.js')).buildProtocolsSection;
  },
};
