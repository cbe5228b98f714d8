import { toBinary, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * Every proto file a set of services needs (their files and the transitive
 * imports), indexed by file name and by fully qualified symbol, with each
 * file's serialized `FileDescriptorProto`: what server reflection answers.
 */
export interface DescriptorIndex {
  /** Fully qualified names of the indexed services, sorted. */
  readonly serviceNames: readonly string[];
  /** The file declaring `symbol` (message, enum, service, method, field, enum value, extension). */
  fileContainingSymbol(symbol: string): DescFile | undefined;
  fileByName(name: string): DescFile | undefined;
  /** True when `typeName` is an indexed message. */
  hasMessage(typeName: string): boolean;
  /** `file` then its transitive imports, each serialized once. */
  serializeWithDependencies(file: DescFile): Uint8Array[];
}

/** Indexes the files of `services` and everything they import. */
export function createDescriptorIndex(services: readonly DescService[]): DescriptorIndex {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const messages = new Set<string>();
  const visit = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    indexFile(file, symbols, messages);
    for (const dep of file.dependencies) visit(dep);
  };
  for (const service of services) visit(service.file);
  const bytes = new Map<string, Uint8Array>();
  const serialize = (file: DescFile): Uint8Array => {
    let b = bytes.get(file.proto.name);
    if (b === undefined) {
      b = toBinary(FileDescriptorProtoSchema, file.proto);
      bytes.set(file.proto.name, b);
    }
    return b;
  };
  return {
    serviceNames: [...new Set(services.map((s) => s.typeName))].sort(),
    fileContainingSymbol: (symbol) => symbols.get(symbol.replace(/^\./, "")),
    fileByName: (name) => files.get(name),
    hasMessage: (typeName) => messages.has(typeName.replace(/^\./, "")),
    serializeWithDependencies(file) {
      const seen = new Set<string>();
      const out: Uint8Array[] = [];
      const walk = (f: DescFile): void => {
        if (seen.has(f.proto.name)) return;
        seen.add(f.proto.name);
        out.push(serialize(f));
        for (const dep of f.dependencies) walk(dep);
      };
      walk(file);
      return out;
    },
  };
}

function indexFile(file: DescFile, symbols: Map<string, DescFile>, messages: Set<string>): void {
  const add = (name: string): void => {
    symbols.set(name, file);
  };
  const addMessage = (m: DescMessage): void => {
    add(m.typeName);
    messages.add(m.typeName);
    for (const f of m.fields) add(`${m.typeName}.${f.name}`);
    for (const o of m.oneofs) add(`${m.typeName}.${o.name}`);
    for (const e of m.nestedEnums) {
      add(e.typeName);
      for (const v of e.values) add(`${m.typeName}.${v.name}`);
    }
    for (const x of m.nestedExtensions) add(x.typeName);
    m.nestedMessages.forEach(addMessage);
  };
  file.messages.forEach(addMessage);
  for (const e of file.enums) {
    add(e.typeName);
    const scope = e.typeName.slice(0, Math.max(0, e.typeName.lastIndexOf(".")));
    for (const v of e.values) add(scope ? `${scope}.${v.name}` : v.name);
  }
  for (const x of file.extensions) add(x.typeName);
  for (const s of file.services) {
    add(s.typeName);
    for (const m of s.methods) add(`${s.typeName}.${m.name}`);
  }
}
