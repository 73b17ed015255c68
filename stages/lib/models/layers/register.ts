/**
 * The layer classes defrost adds to or changes in TensorFlow.js (grouped convolutions, and
 * BatchNormalization trained as PyTorch trains it). Importing this module registers them; every
 * module that builds or loads a network imports it first.
 */
import './batch-normalization.js';
import './grouped-conv2d.js';
