// Hubble-compatible text and JSON output for flowscope's CLI.
export { createPrinter, formatResponses, joinWithCutOff, OUTPUT_FORMATS } from './printer.js';
export type { OutputFormat, Printer, PrinterOptions } from './printer.js';
export { getPorts, getHostNames, hostname, fmtIdentity, getFlowType, getVerdict, getSummary } from './flow-fields.js';
export { LAYOUTS, TIME_FORMAT_NAMES, timeFormatLayout, formatGoTime, fmtTimestamp, checkTimeZone } from './time-format.js';
export { formatHealthcheck, healthStatusText, formatServerStatus, statusOutputFormat, STATUS_OUTPUT_FORMATS } from './status.js';
export type { StatusOutputFormat } from './status.js';
export { formatNodes, nodeStateText, sortNodes, NODES_OUTPUT_FORMATS } from './nodes.js';
export type { NodesOutputFormat } from './nodes.js';
export { TabWriter } from './tabwriter.js';
export { formatNamespaces, NAMESPACES_OUTPUT_FORMATS } from './namespaces.js';
export type { NamespacesOutputFormat } from './namespaces.js';
export { formatServiceMap, formatTopTalkers, formatTopDropReasons, INSIGHTS_OUTPUT_FORMATS } from './insights.js';
export type { InsightsOutputFormat } from './insights.js';
export { formatWhyReport, WHY_OUTPUT_FORMATS } from './why.js';
export type { WhyOutputFormat } from './why.js';
