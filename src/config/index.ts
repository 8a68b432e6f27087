// Public surface of the config package.
export { CfgNode, type TypedCfg } from './cfg_node.js';
export { type AhsConfig, SCHEMA, defaultConfig } from './defaults.js';
export { type ConfigLayer, dumpConfig, loadConfig, readConfigChain } from './load.js';
export { type CfgValues, type LeafSpec, type LeafType, type NodeSpec, type Range, type Spec, rangeText, typeName } from './schema.js';
