package io.weir.protocol.generator;

import io.weir.protocol.generator.MessageSpec.Field;
import io.weir.protocol.generator.MessageSpec.Range;
import io.weir.protocol.generator.MessageSpec.Struct;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes one Java class per request and response described by the {@code .spec} files, plus an
 * {@code ApiMessages} registry. Run at build time (generate-sources) by the protocol module:
 * {@code MessageGenerator <specDir> <outputDir>}.
 *
 * <p>Each generated class reads, sizes and writes itself for any version in its range, with plain
 * field accesses (no reflection): the version checks are the only branching.
 */
public final class MessageGenerator {
    static final String PACKAGE = "io.weir.protocol.message";

    private final MessageSpec spec;
    private final Range msgVersions;
    private final StringBuilder out = new StringBuilder();
    private int indent;

    private MessageGenerator(MessageSpec spec) {
        this.spec = spec;
        this.msgVersions = spec.versions;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: MessageGenerator <specDir> <outputDir>");
        }
        Path specDir = Path.of(args[0]);
        Path outDir = Path.of(args[1]).resolve(PACKAGE.replace('.', '/'));
        Files.createDirectories(outDir);
        List<MessageSpec> specs = new ArrayList<>();
        try (Stream<Path> files = Files.list(specDir)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".spec")).sorted().toList()) {
                specs.add(MessageSpec.parse(p));
            }
        }
        specs.sort(Comparator.comparingInt(s -> s.apiKey));
        for (MessageSpec s : specs) {
            for (boolean request : new boolean[] {true, false}) {
                MessageGenerator g = new MessageGenerator(s);
                Struct top = request ? s.request : s.response;
                g.generateMessage(top, request);
                writeIfChanged(outDir.resolve(top.name + ".java"), g.out.toString());
            }
        }
        writeIfChanged(outDir.resolve("ApiMessages.java"), registry(specs));
    }

    private static void writeIfChanged(Path path, String content) throws IOException {
        if (Files.exists(path) && Files.readString(path).equals(content)) {
            return; // keeps timestamps stable so incremental compiles stay incremental
        }
        Files.writeString(path, content);
    }

    private static String registry(List<MessageSpec> specs) {
        StringBuilder b = new StringBuilder();
        b.append("package ").append(PACKAGE).append(";\n\n");
        b.append("import io.weir.protocol.ApiMessage;\nimport io.weir.protocol.internals.ProtocolReader;\n\n");
        b.append("/** Generated: dispatch from an API key to the generated request and response readers. */\n");
        b.append("public final class ApiMessages {\n    private ApiMessages() {\n    }\n\n");
        for (boolean request : new boolean[] {true, false}) {
            String kind = request ? "Request" : "Response";
            b.append("    /** Reads a ").append(kind.toLowerCase()).append(" body of {@code apiKey} at {@code version}; ")
                .append("the caller has checked the version is supported. */\n");
            b.append("    public static ApiMessage read").append(kind)
                .append("(short apiKey, short version, ProtocolReader r) {\n        switch (apiKey) {\n");
            for (MessageSpec s : specs) {
                b.append("            case ").append(s.apiKey).append(": return ").append(s.apiName).append(kind)
                    .append(".read(r, version);\n");
            }
            b.append("            default: throw new IllegalArgumentException(\"no generated message for api key \" + apiKey);\n");
            b.append("        }\n    }\n\n");
        }
        b.append("    /**\n     * A response of {@code apiKey} at {@code version} carrying {@code errorCode} in its top-level error\n")
            .append("     * code, other fields at their defaults; null if that version's response has no top-level error code.\n")
            .append("     */\n");
        b.append("    public static ApiMessage errorResponse(short apiKey, short version, short errorCode) {\n")
            .append("        switch (apiKey) {\n");
        for (MessageSpec s : specs) {
            Field errorCode = null;
            for (Field f : s.response.fields) {
                if (f.name.equals("errorCode") && f.type.equals("int16") && !f.array && f.tag == null) {
                    errorCode = f;
                }
            }
            b.append("            case ").append(s.apiKey).append(": ");
            if (errorCode == null) {
                b.append("return null;\n");
            } else {
                Range r = errorCode.versions.intersect(s.versions);
                b.append("return version >= ").append(r.lo()).append(" && version <= ").append(Math.min(r.hi(), Short.MAX_VALUE))
                    .append("\n                ? new ").append(s.apiName).append("Response().setErrorCode(errorCode) : null;\n");
            }
        }
        b.append("            default: return null;\n        }\n    }\n");
        b.append("}\n");
        return b.toString();
    }

    // ------------------------------------------------------------------ emission helpers

    private void line(String s) {
        if (!s.isEmpty()) {
            out.append("    ".repeat(indent));
        }
        out.append(s).append('\n');
    }

    private void open(String s) {
        line(s);
        indent++;
    }

    private void close(String s) {
        indent--;
        line(s);
    }

    private static String cap(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** The versions a field exists in, restricted to the message's versions. */
    private Range present(Field f, Range parent) {
        return f.versions.intersect(parent);
    }

    /** A Java boolean expression over {@code version} that is true inside {@code r}, given {@code within}. */
    private static String cond(Range r, Range within) {
        Range x = r.intersect(within);
        if (x.isEmpty()) {
            return "false";
        }
        List<String> parts = new ArrayList<>();
        if (x.lo() > within.lo()) {
            parts.add("version >= " + x.lo());
        }
        if (x.hi() < within.hi()) {
            parts.add("version <= " + x.hi());
        }
        return parts.isEmpty() ? "true" : String.join(" && ", parts);
    }

    // ------------------------------------------------------------------ types

    private static String javaType(String type) {
        return switch (type) {
            case "int8" -> "byte";
            case "int16" -> "short";
            case "int32", "uint16" -> "int";
            case "int64", "uint32" -> "long";
            case "float64" -> "double";
            case "bool" -> "boolean";
            case "string" -> "String";
            case "bytes" -> "byte[]";
            case "records" -> "Records";
            case "uuid" -> "UUID";
            default -> type;
        };
    }

    private static String boxed(String type) {
        return switch (type) {
            case "int8" -> "Byte";
            case "int16" -> "Short";
            case "int32", "uint16" -> "Integer";
            case "int64", "uint32" -> "Long";
            case "float64" -> "Double";
            case "bool" -> "Boolean";
            default -> javaType(type);
        };
    }

    private static String fieldType(Field f) {
        return f.array ? "List<" + boxed(f.type) + ">" : javaType(f.type);
    }

    private static boolean isReference(Field f) {
        return f.array || f.isStruct() || switch (f.type) {
            case "string", "bytes", "records", "uuid" -> true;
            default -> false;
        };
    }

    private static int fixedSize(String type) {
        return switch (type) {
            case "int8", "bool" -> 1;
            case "int16", "uint16" -> 2;
            case "int32", "uint32" -> 4;
            case "int64", "float64" -> 8;
            case "uuid" -> 16;
            default -> -1;
        };
    }

    private static String defaultExpr(Field f) {
        String d = f.defaultValue;
        if (f.array) {
            return "null".equals(d) ? "null" : "new ArrayList<>(0)";
        }
        if (f.isStruct()) {
            return "null".equals(d) ? "null" : "new " + f.type + "()";
        }
        switch (f.type) {
            case "string":
                return d == null ? "\"\"" : d.equals("null") ? "null" : quote(d);
            case "bytes":
                return "null".equals(d) ? "null" : "EMPTY_BYTES";
            case "records":
                return "null";
            case "uuid":
                return "ZERO_UUID";
            case "bool":
                return d == null ? "false" : d;
            case "float64":
                return d == null ? "0.0" : d;
            default:
                break;
        }
        if (d == null) {
            d = "0";
        }
        long v = d.startsWith("0x") ? Long.parseLong(d.substring(2), 16)
            : d.startsWith("-0x") ? -Long.parseLong(d.substring(3), 16) : Long.parseLong(d);
        return switch (f.type) {
            case "int8" -> "(byte) " + v;
            case "int16" -> "(short) " + v;
            case "int32", "uint16" -> Integer.toString((int) v).equals("-2147483648") ? "Integer.MIN_VALUE" : Long.toString(v);
            default -> v == Long.MAX_VALUE ? "Long.MAX_VALUE" : v + "L";
        };
    }

    // ------------------------------------------------------------------ message class

    private void generateMessage(Struct top, boolean request) {
        line("package " + PACKAGE + ";");
        line("");
        line("import io.weir.protocol.ApiMessage;");
        line("import io.weir.protocol.Records;");
        line("import io.weir.protocol.internals.ProtocolReader;");
        line("import io.weir.protocol.internals.ProtocolWriter;");
        line("import io.weir.protocol.internals.Sizes;");
        line("");
        line("import java.nio.ByteBuffer;");
        line("import java.util.ArrayList;");
        line("import java.util.Arrays;");
        line("import java.util.List;");
        line("import java.util.Objects;");
        line("import java.util.UUID;");
        line("");
        line("/**");
        line(" * " + spec.apiName + " " + (request ? "request" : "response") + " (api key " + spec.apiKey + "), versions "
            + msgVersions.lo() + " to " + msgVersions.hi() + ". Generated from " + spec.apiName + ".spec: do not edit.");
        if (!spec.doc.isEmpty()) {
            line(" *");
            line(" * <p>" + String.join("\n * ", spec.doc));
        }
        line(" */");
        line("@SuppressWarnings({\"unused\", \"PointlessBooleanExpression\", \"ConstantConditions\"})");
        open("public final class " + top.name + " implements ApiMessage {");
        line("public static final short API_KEY = " + spec.apiKey + ";");
        line("public static final short LOWEST_VERSION = " + msgVersions.lo() + ";");
        line("public static final short HIGHEST_VERSION = " + msgVersions.hi() + ";");
        line("/** First version using compact encodings and tagged fields; Short.MAX_VALUE if none. */");
        line("public static final short FLEXIBLE_FROM = " + (spec.flexibleFrom >= Short.MAX_VALUE ? "Short.MAX_VALUE"
            : String.valueOf(spec.flexibleFrom)) + ";");
        line("private static final byte[] EMPTY_BYTES = new byte[0];");
        line("private static final UUID ZERO_UUID = new UUID(0L, 0L);");
        line("");
        line("@Override");
        line("public short apiKey() {");
        line("    return API_KEY;");
        line("}");
        line("");
        line("@Override");
        line("public short lowestVersion() {");
        line("    return LOWEST_VERSION;");
        line("}");
        line("");
        line("@Override");
        line("public short highestVersion() {");
        line("    return HIGHEST_VERSION;");
        line("}");
        line("");
        generateStructBody(top, msgVersions);
        // nested struct classes, each once
        Map<String, Struct> nested = new LinkedHashMap<>();
        Map<String, Range> nestedVersions = new LinkedHashMap<>();
        collect(top, msgVersions, nested, nestedVersions);
        for (Map.Entry<String, Struct> e : nested.entrySet()) {
            line("");
            line("/** Generated nested structure of " + top.name + ". */");
            open("public static final class " + e.getKey() + " {");
            generateStructBody(e.getValue(), msgVersions);
            close("}");
        }
        close("}");
    }

    private void collect(Struct s, Range versions, Map<String, Struct> into, Map<String, Range> vers) {
        for (Field f : s.fields) {
            if (f.isStruct()) {
                Struct prev = into.putIfAbsent(f.struct.name, f.struct);
                if (prev != null && prev != f.struct) {
                    throw new IllegalArgumentException(spec.apiName + ": two different structs named " + f.struct.name);
                }
                if (prev == null) {
                    collect(f.struct, versions, into, vers);
                }
            }
        }
    }

    private void generateStructBody(Struct s, Range versions) {
        String cls = s.name;
        for (Field f : s.fields) {
            if (!f.doc.isEmpty()) {
                line("/** " + f.doc + " */");
            }
            line("private " + fieldType(f) + " " + f.name + " = " + defaultExpr(f) + ";");
        }
        line("");
        line("public " + cls + "() {");
        line("}");
        // accessors
        for (Field f : s.fields) {
            line("");
            String vs = f.versions.hi() >= Short.MAX_VALUE ? f.versions.lo() + "+" : f.versions.lo() + "-" + f.versions.hi();
            line("/** " + (f.doc.isEmpty() ? f.name : f.doc) + " (versions " + vs
                + (f.nullable.isEmpty() ? "" : ", nullable") + (f.tag == null ? "" : ", tag " + f.tag) + ") */");
            open("public " + fieldType(f) + " " + f.name + "() {");
            line("return " + f.name + ";");
            close("}");
            line("");
            open("public " + cls + " set" + cap(f.name) + "(" + fieldType(f) + " value) {");
            line("this." + f.name + " = value;");
            line("return this;");
            close("}");
        }
        generateRead(s, versions);
        generateWrite(s, versions);
        generateSize(s, versions);
        generateEquals(s);
    }

    // ------------------------------------------------------------------ read

    private String nullableExpr(Field f, Range versions) {
        return cond(f.nullable, versions);
    }

    private String readValue(String type, String label, String compact, String nullable) {
        return switch (type) {
            case "int8" -> "r.readInt8(" + label + ")";
            case "int16" -> "r.readInt16(" + label + ")";
            case "uint16" -> "r.readUint16(" + label + ")";
            case "int32" -> "r.readInt32(" + label + ")";
            case "uint32" -> "r.readUint32(" + label + ")";
            case "int64" -> "r.readInt64(" + label + ")";
            case "float64" -> "r.readFloat64(" + label + ")";
            case "bool" -> "r.readBool(" + label + ")";
            case "uuid" -> "r.readUuid(" + label + ")";
            case "string" -> "r.readString(" + label + ", " + compact + ", " + nullable + ")";
            case "bytes" -> "r.readBytes(" + label + ", " + compact + ", " + nullable + ")";
            case "records" -> "r.readRecords(" + label + ", " + compact + ", " + nullable + ")";
            default -> type + ".read(r, version)";
        };
    }

    /** Emits statements reading field {@code f} into {@code m.<name>}; {@code compact} is a Java expression. */
    private void readField(Field f, String compact, Range versions) {
        String label = quote(f.name);
        if (!f.array) {
            line("m." + f.name + " = " + readValue(f.type, label, compact, nullableExpr(f, versions)) + ";");
            return;
        }
        String min;
        if (f.isStruct()) {
            int flexibleMin = Math.max(1, minStructSize(f.struct, true));
            int classicMin = Math.max(1, minStructSize(f.struct, false));
            min = flexibleMin == classicMin ? String.valueOf(flexibleMin)
                : "(" + compact + " ? " + flexibleMin + " : " + classicMin + ")";
        } else {
            min = String.valueOf(Math.max(1, fixedSize(f.type)));
        }
        open("{");
        line("int n = r.readArrayLength(" + label + ", " + compact + ", " + nullableExpr(f, versions) + ", " + min + ");");
        open("if (n < 0) {");
        line("m." + f.name + " = null;");
        close("} else {");
        indent++;
        line("ArrayList<" + boxed(f.type) + "> list = new ArrayList<>(n);");
        open("for (int i = 0; i < n; i++) {");
        line("list.add(" + readValue(f.type, label, compact, "false") + ");");
        close("}");
        line("m." + f.name + " = list;");
        close("}");
        close("}");
    }

    /**
     * The fewest bytes one element of struct {@code s} takes on the wire in any flexible (or any
     * classic) version of this message: the reader rejects an array count that the remaining input
     * could not hold at this size, which bounds what decoding allocates by a small multiple of the input.
     * With no version of that kind, 1 (never used at run time).
     */
    private int minStructSize(Struct s, boolean flexible) {
        int best = Integer.MAX_VALUE;
        for (int v = msgVersions.lo(); v <= msgVersions.hi(); v++) {
            if ((v >= spec.flexibleFrom) == flexible) {
                best = Math.min(best, minStructSize(s, v));
            }
        }
        return best == Integer.MAX_VALUE ? 1 : best;
    }

    private int minStructSize(Struct s, int version) {
        boolean flexible = version >= spec.flexibleFrom;
        int size = flexible ? 1 : 0; // the tagged-field count
        for (Field f : s.fields) {
            if (f.tag != null || version < f.versions.lo() || version > f.versions.hi()) {
                continue;
            }
            int fixed = fixedSize(f.type);
            if (f.array) {
                size += flexible ? 1 : 4;
            } else if (fixed > 0) {
                size += fixed;
            } else if (f.isStruct()) {
                size += minStructSize(f.struct, version);
            } else if (f.type.equals("string")) {
                size += flexible ? 1 : 2;
            } else {
                size += flexible ? 1 : 4; // bytes, records
            }
        }
        return size;
    }

    private void generateRead(Struct s, Range versions) {
        line("");
        line("/** Reads one " + s.name + " at {@code version}; fields the version lacks keep their defaults. */");
        open("public static " + s.name + " read(ProtocolReader r, short version) {");
        line(s.name + " m = new " + s.name + "();");
        line("boolean flexible = version >= FLEXIBLE_FROM;");
        List<Field> tagged = new ArrayList<>();
        for (Field f : s.fields) {
            if (f.tag != null) {
                tagged.add(f);
            }
        }
        forUntaggedFields(s, versions, f -> readField(f, "flexible", versions));
        tagged.sort(Comparator.comparingInt(f -> f.tag));
        open("if (flexible) {");
        line("int tagCount = r.readTaggedFieldCount(\"taggedFieldCount\");");
        open("for (int t = 0; t < tagCount; t++) {");
        line("int tag = r.readUnsignedVarint(\"tag\");");
        line("int end = r.readTaggedFieldEnd(\"tag \" + tag);");
        String prefix = "";
        for (Field f : tagged) {
            String c = cond(f.versions, versions);
            if (c.equals("false")) {
                continue;
            }
            open(prefix + "if (tag == " + f.tag + (c.equals("true") ? "" : " && " + c) + ") {");
            readField(f, "true", versions);
            line("r.expectPosition(" + quote(f.name) + ", end);");
            indent--;
            prefix = "} else ";
        }
        if (prefix.isEmpty()) {
            line("r.skipTo(\"unknown tagged field\", end);");
        } else {
            open("} else {");
            line("r.skipTo(\"unknown tagged field\", end);");
            close("}");
        }
        close("}");
        close("}");
        line("return m;");
        close("}");
    }

    // ------------------------------------------------------------------ write & size

    private String nullCheck(Field f, Range versions) {
        String n = nullableExpr(f, versions);
        return "if (this." + f.name + " == null" + (n.equals("false") ? "" : " && !(" + n + ")") + ") {\n"
            + "    throw new IllegalStateException(\"" + f.name + " is null, which version \" + version + \" does not allow\");\n"
            + "}";
    }

    private String writeValue(String type, String v, String compact) {
        return switch (type) {
            case "int8" -> "w.writeInt8(" + v + ")";
            case "int16" -> "w.writeInt16(" + v + ")";
            case "uint16" -> "w.writeUint16(" + v + ")";
            case "int32" -> "w.writeInt32(" + v + ")";
            case "uint32" -> "w.writeUint32(" + v + ")";
            case "int64" -> "w.writeInt64(" + v + ")";
            case "float64" -> "w.writeFloat64(" + v + ")";
            case "bool" -> "w.writeBool(" + v + ")";
            case "uuid" -> "w.writeUuid(" + v + ")";
            case "string" -> "w.writeString(" + v + ", " + compact + ")";
            case "bytes" -> "w.writeBytes(" + v + ", " + compact + ")";
            case "records" -> "w.writeRecords(" + v + ", " + compact + ")";
            default -> v + ".write(w, version)";
        };
    }

    private String sizeValue(String type, String v, String compact) {
        int fixed = fixedSize(type);
        if (fixed > 0) {
            return String.valueOf(fixed);
        }
        return switch (type) {
            case "string" -> "Sizes.string(" + v + ", " + compact + ")";
            case "bytes" -> "Sizes.bytes(" + v + ", " + compact + ")";
            case "records" -> "Sizes.records(" + v + ", " + compact + ")";
            default -> v + ".size(version)";
        };
    }

    private void emitLines(String block) {
        for (String l : block.split("\n")) {
            line(l);
        }
    }

    private void writeField(Field f, String compact, Range versions) {
        if (isReference(f)) {
            emitLines(nullCheck(f, versions));
        }
        if (!f.array) {
            line(writeValue(f.type, "this." + f.name, compact) + ";");
            return;
        }
        open("if (this." + f.name + " == null) {");
        line("w.writeArrayLength(-1, " + compact + ");");
        close("} else {");
        indent++;
        line("w.writeArrayLength(this." + f.name + ".size(), " + compact + ");");
        open("for (" + boxed(f.type) + " e : this." + f.name + ") {");
        line(writeValue(f.type, "e", compact) + ";");
        close("}");
        close("}");
    }

    /** Emits statements adding field {@code f}'s encoded size to local {@code target}. */
    private void sizeField(Field f, String compact, String target) {
        if (!f.array) {
            line(target + " += " + sizeValue(f.type, "this." + f.name, compact) + ";");
            return;
        }
        open("if (this." + f.name + " == null) {");
        line(target + " += Sizes.arrayLength(-1, " + compact + ");");
        close("} else {");
        indent++;
        line(target + " += Sizes.arrayLength(this." + f.name + ".size(), " + compact + ");");
        int fixed = fixedSize(f.type);
        if (fixed > 0) {
            line(target + " += " + fixed + " * this." + f.name + ".size();");
        } else {
            open("for (" + boxed(f.type) + " e : this." + f.name + ") {");
            line(target + " += " + sizeValue(f.type, "e", compact) + ";");
            close("}");
        }
        close("}");
    }

    /** True when a tagged field differs from its default and so must be written. */
    private static String nonDefault(Field f) {
        String d = defaultExpr(f);
        String v = "this." + f.name;
        if (f.array) {
            return d.equals("null") ? v + " != null" : "(" + v + " == null || !" + v + ".isEmpty())";
        }
        if (f.isStruct() || f.type.equals("string") || f.type.equals("uuid") || f.type.equals("records")) {
            return "!Objects.equals(" + v + ", " + d + ")";
        }
        if (f.type.equals("bytes")) {
            return "!Arrays.equals(" + v + ", " + d + ")";
        }
        if (f.type.equals("float64")) {
            return "Double.compare(" + v + ", " + d + ") != 0";
        }
        return v + " != " + d;
    }

    private List<Field> taggedSorted(Struct s, Range versions) {
        List<Field> tagged = new ArrayList<>();
        for (Field f : s.fields) {
            if (f.tag != null && !cond(f.versions, versions).equals("false")) {
                tagged.add(f);
            }
        }
        tagged.sort(Comparator.comparingInt(f -> f.tag));
        return tagged;
    }

    /**
     * Emits code for each untagged field present in some of {@code versions}, wrapped in its version
     * condition when it is not present in all of them (read, write and size share this walk).
     */
    private void forUntaggedFields(Struct s, Range versions, java.util.function.Consumer<Field> emit) {
        for (Field f : s.fields) {
            if (f.tag != null) {
                continue;
            }
            String c = cond(f.versions, versions);
            if (c.equals("false")) {
                continue;
            }
            if (c.equals("true")) {
                emit.accept(f);
            } else {
                open("if (" + c + ") {");
                emit.accept(f);
                close("}");
            }
        }
    }

    private String taggedCond(Field f, Range versions) {
        String c = cond(f.versions, versions);
        return (c.equals("true") ? "" : c + " && ") + nonDefault(f);
    }

    private void generateWrite(Struct s, Range versions) {
        line("");
        line("/** Writes this structure at {@code version}; the buffer must have {@link #size(short)} bytes free. */");
        open("public void write(ProtocolWriter w, short version) {");
        line("boolean flexible = version >= FLEXIBLE_FROM;");
        forUntaggedFields(s, versions, f -> writeField(f, "flexible", versions));
        List<Field> tagged = taggedSorted(s, versions);
        open("if (flexible) {");
        if (tagged.isEmpty()) {
            line("w.writeUnsignedVarint(0);");
        } else {
            line("int tagCount = 0;");
            for (Field f : tagged) {
                line("if (" + taggedCond(f, versions) + ") tagCount++;");
            }
            line("w.writeUnsignedVarint(tagCount);");
            for (Field f : tagged) {
                open("if (" + taggedCond(f, versions) + ") {");
                line("int valueSize = 0;");
                sizeField(f, "true", "valueSize");
                line("w.writeUnsignedVarint(" + f.tag + ");");
                line("w.writeUnsignedVarint(valueSize);");
                writeField(f, "true", versions);
                close("}");
            }
        }
        close("}");
        close("}");
    }

    private void generateSize(Struct s, Range versions) {
        line("");
        line("/** The number of bytes {@link #write} produces at {@code version}. */");
        open("public int size(short version) {");
        line("boolean flexible = version >= FLEXIBLE_FROM;");
        line("int size = 0;");
        forUntaggedFields(s, versions, f -> sizeField(f, "flexible", "size"));
        List<Field> tagged = taggedSorted(s, versions);
        open("if (flexible) {");
        line("int tagCount = 0;");
        for (Field f : tagged) {
            open("if (" + taggedCond(f, versions) + ") {");
            line("tagCount++;");
            line("int valueSize = 0;");
            sizeField(f, "true", "valueSize");
            line("size += Sizes.unsignedVarint(" + f.tag + ") + Sizes.unsignedVarint(valueSize) + valueSize;");
            close("}");
        }
        line("size += Sizes.unsignedVarint(tagCount);");
        close("}");
        line("return size;");
        close("}");
    }

    // ------------------------------------------------------------------ equality

    private void generateEquals(Struct s) {
        line("");
        line("@Override");
        open("public boolean equals(Object o) {");
        line("if (this == o) return true;");
        line("if (!(o instanceof " + s.name + ")) return false;");
        line(s.name + " other = (" + s.name + ") o;");
        for (Field f : s.fields) {
            String a = "this." + f.name;
            String b = "other." + f.name;
            String eq;
            if (!f.array && f.type.equals("bytes")) {
                eq = "Arrays.equals(" + a + ", " + b + ")";
            } else if (!f.array && f.type.equals("float64")) {
                eq = "Double.compare(" + a + ", " + b + ") == 0";
            } else if (isReference(f)) {
                eq = "Objects.equals(" + a + ", " + b + ")";
            } else {
                eq = a + " == " + b;
            }
            line("if (!(" + eq + ")) return false;");
        }
        line("return true;");
        close("}");
        line("");
        line("@Override");
        open("public int hashCode() {");
        line("int h = 17;");
        for (Field f : s.fields) {
            String hv;
            if (!f.array && f.type.equals("bytes")) {
                hv = "Arrays.hashCode(" + f.name + ")";
            } else if (isReference(f)) {
                hv = "Objects.hashCode(" + f.name + ")";
            } else {
                hv = boxed(f.type) + ".hashCode(" + f.name + ")";
            }
            line("h = 31 * h + " + hv + ";");
        }
        line("return h;");
        close("}");
        line("");
        line("@Override");
        open("public String toString() {");
        StringBuilder b = new StringBuilder("return \"" + s.name + "(\"");
        String sep = "";
        for (Field f : s.fields) {
            String v;
            if (!f.array && f.type.equals("records")) {
                v = "(" + f.name + " == null ? \"null\" : \"[\" + " + f.name + ".sizeInBytes() + \" bytes]\")";
            } else if (!f.array && f.type.equals("bytes")) {
                v = "(" + f.name + " == null ? \"null\" : \"[\" + " + f.name + ".length + \" bytes]\")";
            } else {
                v = f.name;
            }
            b.append(" + \"").append(sep).append(f.name).append("=\" + ").append(v);
            sep = ", ";
        }
        b.append(" + \")\";");
        line(b.toString());
        close("}");
    }
}
