/**
 * A protocol-buffers writer for the few ONNX messages an export needs (varints, fixed 32-bit
 * floats, length-delimited bytes and nested messages). Writing them by hand keeps the export free
 * of a generated protobuf library: ONNX's ModelProto is a small, stable subset.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varintBytes(value: number): Uint8Array {
    const bytes: number[] = [];
    // Negative int64 values are written as their 64-bit two's complement, ten bytes long.
    let v = value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v > 0n);
    return Uint8Array.from(bytes);
  }

  private tag(field: number, wireType: number): void {
    this.push(this.varintBytes(field * 8 + wireType));
  }

  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.push(this.varintBytes(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.push(this.varintBytes(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}
