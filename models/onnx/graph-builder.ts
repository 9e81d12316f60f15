// A small ONNX graph builder on onnx-proto (onnx.proto 1.10 compiled for protobufjs): named
// inputs with a dynamic batch dimension, float32 initializers as little-endian raw_data, and
// nodes of the standard operator set. Opset 13 / IR 7 run on every onnxruntime since 1.7.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET_VERSION = 13;
export const IR_VERSION = 7;

/** A dimension: a fixed size, or a named dynamic one such as "batch". */
export type Dim = number | string;

export type ElemType = 'float32' | 'int64';

const ELEM: Record<ElemType, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

/** an integer, a list of integers, a string, or { f } for a float */
type AttrValue = number | number[] | string | { f: number };

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  /** values that became graph outputs, by their output's name */
  private readonly renamed = new Map<string, string>();

  constructor(private readonly name: string) {}

  input(name: string, dims: Dim[], type: ElemType = 'float32'): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, dims, type));
    return name;
  }

  /**
   * Marks an existing value as a graph output. A node's output takes the output's name (later
   * nodes that read the value read it under that name); a graph input, a weight, or a value that
   * is already an output goes through an Identity — a node ONNX Runtime would run on every call.
   */
  output(value: string, name: string, dims: Dim[], type: ElemType = 'float32'): void {
    this.claim(name);
    const producer = this.nodes.find((n) => (n.output ?? []).includes(value));
    if (producer && !this.renamed.has(value)) {
      const rename = (names: string[] | null | undefined) => (names ?? []).map((n) => (n === value ? name : n));
      for (const node of this.nodes) node.input = rename(node.input);
      producer.output = rename(producer.output);
      this.renamed.set(value, name);
    } else {
      this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [this.named(value)], output: [name], name: `${name}_out` }));
    }
    this.outputs.push(valueInfo(name, dims, type));
  }

  /** A float32 constant (weights), stored as little-endian raw_data. */
  constant(name: string, values: ArrayLike<number>, dims: number[]): string {
    this.claim(name);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`initializer ${name}: ${values.length} values for dims [${dims}]`);
    const raw = new Uint8Array(size * 4);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < size; k++) view.setFloat32(k * 4, values[k], true);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw }));
    return name;
  }

  /** An int64 constant (shapes, axes). */
  int64s(name: string, values: number[]): string {
    this.claim(name);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, k) => view.setBigInt64(k * 8, BigInt(v), true));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw }));
    return name;
  }

  /** Adds a node; returns its (first) output's name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttrValue> = {}, outputs = 1): string {
    const out = Array.from({ length: outputs }, () => `${opType.toLowerCase()}_${this.counter++}`);
    out.forEach((n) => this.claim(n));
    this.nodes.push(onnx.NodeProto.create({
      opType, input: inputs.map((i) => this.named(i)), output: out, name: `${out[0]}_node`,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    }));
    return out[0];
  }

  toBytes(docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'fleetmind',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      graph: onnx.GraphProto.create({
        name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** a value's name now: an output's where it became one */
  private named(value: string): string {
    return this.renamed.get(value) ?? value;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: the name "${name}" is used twice`);
    this.names.add(name);
  }
}

function valueInfo(name: string, dims: Dim[], type: ElemType) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, value: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (typeof value === 'object' && !Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.f });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer (write { f: ${value} } for a float)`);
  return onnx.AttributeProto.create({ name, type: T.INT, i: value });
}
