export { Module, ModuleList, Sequential, formatLoadReport, type Layer, type LoadReport, type ShapeMismatch } from './module.js';
export { Linear, Conv2d, ConvTranspose2d, LayerNorm, GroupNorm, Embedding, Dropout, Identity, GELU, ReLU, QuickGELU, fusedLinear, type ConvOptions } from './layers.js';
export { uniformFanIn, normalInit, truncNormalInit, constantInit } from './init.js';
