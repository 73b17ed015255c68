/**
 * The report's sections beyond the sweep (`section.ts`), in the order the page shows them. A
 * stage whose results the report shows adds its section here, from its own modules; `aggregate`
 * (its inputs and outputs), the planner and the report builder take them from this list.
 */
import { predictionSection } from '../prediction/section.js';
import { protocolsSection } from '../training/protocols-section.js';

export const REPORT_SECTIONS = [protocolsSection, predictionSection] as const;

/** The stages `aggregate` reads for the sections. */
export const SECTION_STAGES = REPORT_SECTIONS.flatMap((section) => section.stages);

/** `aggregate`'s outputs for the sections (each section's tables). */
export const SECTION_OUTPUTS = Object.fromEntries(REPORT_SECTIONS.flatMap((section) => Object.entries(section.outputs)));
