package io.weir.protocol.generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parsed form of one {@code .spec} file: one API, its version range, its request and response
 * field trees and any shared structs.
 *
 * <p>Spec syntax (line based, two spaces of indentation per nesting level):
 * <pre>
 * # Free text: the first comment block documents the API.
 * api Produce key=0 versions=3-11 flexible=9+
 * struct NodeEndpoint                         (a struct shared by several fields)
 *   nodeId  int32   # the broker id
 * request
 *   acks    int16                      # doc for the field
 *   topics  []TopicData  0+ null=1+    # a struct array, defined by the indented lines below
 *     name  string
 * response
 *   ...
 * </pre>
 * A field line is {@code name type [versions] [null=versions] [tag=N] [default=V] [# doc]}.
 * Types: int8 int16 int32 int64 uint16 uint32 float64 bool string bytes records uuid, a struct
 * name (capitalised), or {@code []T} for an array of any of them. Versions are {@code N+},
 * {@code N-M} or {@code none}; an absent range means every version the enclosing field has.
 * A tagged field is tagged in exactly its versions, which must all be flexible.
 */
final class MessageSpec {
    static final Set<String> PRIMITIVES = Set.of("int8", "int16", "int32", "int64", "uint16", "uint32",
        "float64", "bool", "string", "bytes", "records", "uuid");

    /** An inclusive version range; {@code hi == Short.MAX_VALUE} means open ended. */
    record Range(int lo, int hi) {
        static final Range NONE = new Range(1, 0);
        static final Range ALL = new Range(0, Short.MAX_VALUE);

        static Range parse(String s) {
            if (s.equals("none")) {
                return NONE;
            }
            if (s.endsWith("+")) {
                return new Range(Integer.parseInt(s.substring(0, s.length() - 1)), Short.MAX_VALUE);
            }
            int dash = s.indexOf('-');
            if (dash < 0) {
                int v = Integer.parseInt(s);
                return new Range(v, v);
            }
            return new Range(Integer.parseInt(s.substring(0, dash)), Integer.parseInt(s.substring(dash + 1)));
        }

        boolean isEmpty() {
            return lo > hi;
        }

        Range intersect(Range o) {
            return new Range(Math.max(lo, o.lo), Math.min(hi, o.hi));
        }
    }

    static final class Field {
        String name;
        String type;        // element type for arrays
        boolean array;
        Range versions;
        Range nullable = Range.NONE;
        Integer tag;
        String defaultValue;
        String doc = "";
        Struct struct;      // when type is a struct
        int line;

        boolean isStruct() {
            return !PRIMITIVES.contains(type);
        }
    }

    static final class Struct {
        final String name;
        final List<Field> fields = new ArrayList<>();

        Struct(String name) {
            this.name = name;
        }
    }

    String apiName;
    int apiKey;
    Range versions;
    int flexibleFrom = Short.MAX_VALUE;
    final List<String> doc = new ArrayList<>();
    Struct request;
    Struct response;
    final Map<String, Struct> sharedStructs = new LinkedHashMap<>();

    static MessageSpec parse(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        MessageSpec spec = new MessageSpec();
        Struct current = null;
        // stack of (indent, struct) for nested field definitions
        List<Struct> stack = new ArrayList<>();
        List<Field> pendingStructFields = new ArrayList<>();
        boolean inHeaderDoc = true;
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            String where = file.getFileName() + ":" + (i + 1);
            if (raw.isBlank()) {
                continue;
            }
            if (raw.startsWith("#")) {
                if (inHeaderDoc) {
                    spec.doc.add(raw.substring(1).trim());
                }
                continue;
            }
            inHeaderDoc = false;
            int indent = 0;
            while (indent < raw.length() && raw.charAt(indent) == ' ') {
                indent++;
            }
            if (indent % 2 != 0) {
                throw new IllegalArgumentException(where + ": indentation must be a multiple of two spaces");
            }
            String doc = "";
            String body = raw.trim();
            int hash = body.indexOf(" #");
            if (hash >= 0) {
                doc = body.substring(hash + 2).trim();
                body = body.substring(0, hash).trim();
            }
            String[] tok = body.split("\\s+");
            int level = indent / 2;
            if (level == 0) {
                stack.clear();
                switch (tok[0]) {
                    case "api" -> {
                        spec.apiName = tok[1];
                        for (int t = 2; t < tok.length; t++) {
                            String[] kv = tok[t].split("=", 2);
                            switch (kv[0]) {
                                case "key" -> spec.apiKey = Integer.parseInt(kv[1]);
                                case "versions" -> spec.versions = Range.parse(kv[1]);
                                case "flexible" -> spec.flexibleFrom = kv[1].equals("none") ? Short.MAX_VALUE
                                    : Range.parse(kv[1]).lo();
                                default -> throw new IllegalArgumentException(where + ": unknown api attribute " + kv[0]);
                            }
                        }
                        current = null;
                    }
                    case "request" -> current = spec.request = new Struct(spec.apiName + "Request");
                    case "response" -> current = spec.response = new Struct(spec.apiName + "Response");
                    case "struct" -> {
                        current = new Struct(tok[1]);
                        spec.sharedStructs.put(tok[1], current);
                    }
                    default -> throw new IllegalArgumentException(where + ": expected api/request/response/struct");
                }
                stack.add(current);
                continue;
            }
            if (level > stack.size()) {
                throw new IllegalArgumentException(where + ": indented too deep (no struct field above)");
            }
            while (stack.size() > level) {
                stack.remove(stack.size() - 1);
            }
            Struct owner = stack.get(stack.size() - 1);
            Field f = parseField(tok, doc, where);
            f.line = i + 1;
            owner.fields.add(f);
            if (f.isStruct()) {
                Struct s = new Struct(f.type);
                f.struct = s;
                stack.add(s);
                pendingStructFields.add(f);
            }
        }
        if (spec.apiName == null || spec.versions == null || spec.request == null || spec.response == null) {
            throw new IllegalArgumentException(file + ": needs an api line, a request and a response");
        }
        // a struct-typed field with no nested lines refers to a shared struct
        for (Field f : pendingStructFields) {
            if (f.struct.fields.isEmpty()) {
                Struct shared = spec.sharedStructs.get(f.type);
                if (shared == null) {
                    throw new IllegalArgumentException(file.getFileName() + ":" + f.line + ": struct " + f.type
                        + " has no fields and no shared definition");
                }
                f.struct = shared;
            }
        }
        return spec;
    }

    private static Field parseField(String[] tok, String doc, String where) {
        if (tok.length < 2) {
            throw new IllegalArgumentException(where + ": a field needs a name and a type");
        }
        Field f = new Field();
        f.name = tok[0];
        f.doc = doc;
        String type = tok[1];
        if (type.startsWith("[]")) {
            f.array = true;
            type = type.substring(2);
        }
        f.type = type;
        if (!PRIMITIVES.contains(type) && !Character.isUpperCase(type.charAt(0))) {
            throw new IllegalArgumentException(where + ": unknown type " + type);
        }
        f.versions = Range.ALL;
        for (int t = 2; t < tok.length; t++) {
            String s = tok[t];
            if (s.startsWith("null=")) {
                f.nullable = Range.parse(s.substring(5));
            } else if (s.startsWith("tag=")) {
                f.tag = Integer.parseInt(s.substring(4));
            } else if (s.startsWith("default=")) {
                f.defaultValue = s.substring(8);
            } else if (Character.isDigit(s.charAt(0)) || s.equals("none")) {
                f.versions = Range.parse(s);
            } else {
                throw new IllegalArgumentException(where + ": cannot understand '" + s + "'");
            }
        }
        return f;
    }
}
