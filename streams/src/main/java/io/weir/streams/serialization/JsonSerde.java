package io.weir.streams.serialization;

import io.weir.common.utils.Json;
import io.weir.consumer.Deserializer;
import io.weir.producer.Serializer;
import io.weir.streams.errors.SerializationException;

import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Values as UTF-8 JSON, without a mapping library: JSON's own types ({@code Map<String, ?>} objects in
 * field order, {@code List} arrays, {@code String}, {@code Long} / {@code Double} numbers, {@code Boolean},
 * null) and Java records, written as an object of their components and read back through the canonical
 * constructor. A record's components may be primitives and their boxes, {@code String}, enums (by name),
 * {@code BigDecimal} / {@code BigInteger} (fractions are read through a double: about 17 significant digits), other records, and {@code List} / {@code Set} / {@code Map<String, V>}
 * of those (element types are read from the component's generic type). A JSON null reads as null (a
 * primitive component gets its zero value); fields the record does not have are ignored, so a record can
 * grow new components read as null from older data.
 *
 * <p>Classes other than records and JSON's types are refused when the serde is made: mapping arbitrary
 * beans (getters, setters, annotations) needs a mapping library. Malformed JSON, or JSON that does not fit
 * the type, throws a {@link SerializationException} naming the topic; for input records the job's
 * deserialization exception handler gets it. A null value serializes to null (a tombstone) and back.
 * Stateless and thread-safe.
 *
 * @param <T> the type (de)serialized
 */
public final class JsonSerde<T> implements Serde<T> {
    private final Class<T> type;
    private final Serializer<T> serializer;
    private final Deserializer<T> deserializer;

    /** JSON's own types: maps, lists, strings, numbers, booleans (usable by class name in {@code default.value.serde}). */
    @SuppressWarnings("unchecked")
    public JsonSerde() {
        this((Class<T>) Object.class);
    }

    /** Values of {@code type}: a record, or one of JSON's own types; anything else is refused here. */
    public JsonSerde(Class<T> type) {
        if (type == null) {
            throw new IllegalArgumentException("the JSON serde needs a type");
        }
        checkSupported(type, type);
        this.type = type;
        this.serializer = (topic, data) -> data == null ? null : toBytes(topic, data);
        this.deserializer = (topic, bytes) -> bytes == null ? null : fromBytes(topic, bytes);
    }

    /** The type this serde reads and writes. */
    public Class<T> type() {
        return type;
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }

    private byte[] toBytes(String topic, T data) {
        try {
            return Json.writeBytes(toJson(data));
        } catch (RuntimeException e) {
            throw new SerializationException("cannot serialize a " + data.getClass().getName() + " as JSON for topic " + topic
                + ": " + e.getMessage(), e);
        }
    }

    private T fromBytes(String topic, byte[] bytes) {
        Object parsed;
        try {
            parsed = Json.parse(bytes);
        } catch (RuntimeException e) {
            throw new SerializationException("cannot deserialize JSON from topic " + topic + ": " + e.getMessage(), e);
        }
        try {
            return type.cast(fromJson(parsed, type, "$"));
        } catch (RuntimeException e) {
            throw new SerializationException("cannot deserialize JSON from topic " + topic + " as a " + type.getName() + ": "
                + e.getMessage(), e);
        }
    }

    /** Fails (naming the offending part) unless values of {@code t} can be mapped. */
    private static void checkSupported(Type t, Class<?> root) {
        Class<?> raw = raw(t);
        if (raw.isRecord()) {
            for (RecordComponent c : raw.getRecordComponents()) {
                checkSupported(c.getGenericType(), root);
            }
            return;
        }
        if (simple(raw) || raw == Object.class || raw.isEnum()) {
            return;
        }
        if (List.class.isAssignableFrom(raw) || Set.class.isAssignableFrom(raw) || raw == Collection.class
            || raw == Iterable.class) {
            checkSupported(typeArgument(t, 0), root);
            return;
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (raw(typeArgument(t, 0)) != String.class && raw(typeArgument(t, 0)) != Object.class) {
                throw new IllegalArgumentException("the JSON serde for " + root.getName() + " cannot map " + t.getTypeName()
                    + ": JSON object keys are strings");
            }
            checkSupported(typeArgument(t, 1), root);
            return;
        }
        throw new IllegalArgumentException("the JSON serde for " + root.getName() + " cannot map " + t.getTypeName()
            + ": only records, enums, strings, numbers, booleans, lists, sets and maps with string keys are supported"
            + " (write the class as a record, or use a serde built on a JSON mapping library)");
    }

    private static boolean simple(Class<?> c) {
        return c.isPrimitive() || c == String.class || c == Boolean.class || Number.class.isAssignableFrom(c)
            || c == Character.class;
    }

    private static Object toJson(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Integer
            || v instanceof Short || v instanceof Byte) {
            return v;
        }
        if (v instanceof Double d) {
            requireFinite(d);
            return v;
        }
        if (v instanceof Float f) {
            requireFinite(f.doubleValue());
            return Double.valueOf(f.toString());   // 0.1f writes as 0.1, not 0.10000000149011612
        }
        if (v instanceof BigDecimal || v instanceof BigInteger) {
            return v;
        }
        if (v instanceof Character c) {
            return c.toString();
        }
        if (v instanceof Enum<?> e) {
            return e.name();
        }
        if (v.getClass().isRecord()) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (RecordComponent c : v.getClass().getRecordComponents()) {
                try {
                    java.lang.reflect.Method accessor = c.getAccessor();
                    accessor.trySetAccessible();
                    out.put(c.getName(), toJson(accessor.invoke(v)));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalArgumentException("cannot read component " + c.getName() + " of " + v.getClass().getName()
                        + " (is the record public?)", e);
                }
            }
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), toJson(x)));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            it.forEach(x -> out.add(toJson(x)));
            return out;
        }
        throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }

    private static void requireFinite(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw new IllegalArgumentException("JSON has no " + d);
        }
    }

    /** Reads the parsed JSON {@code v} as {@code t}; {@code path} names the place for errors ({@code $.items[2].price}). */
    private static Object fromJson(Object v, Type t, String path) {
        Class<?> raw = raw(t);
        if (v == null) {
            return raw.isPrimitive() ? zero(raw) : null;
        }
        if (raw == Object.class) {
            return v;
        }
        if (raw == String.class) {
            return expect(v, String.class, path);
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return expect(v, Boolean.class, path);
        }
        if (raw == char.class || raw == Character.class) {
            String s = expect(v, String.class, path);
            if (s.length() != 1) {
                throw new IllegalArgumentException(path + ": expected one character, got \"" + s + "\"");
            }
            return s.charAt(0);
        }
        if (raw.isPrimitive() || Number.class.isAssignableFrom(raw)) {
            return number(expect(v, Number.class, path), raw, path);
        }
        if (raw.isEnum()) {
            String name = expect(v, String.class, path);
            for (Object constant : raw.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(name)) {
                    return constant;
                }
            }
            throw new IllegalArgumentException(path + ": " + name + " is not a " + raw.getSimpleName());
        }
        if (raw.isRecord()) {
            Map<?, ?> fields = expect(v, Map.class, path);
            RecordComponent[] components = raw.getRecordComponents();
            Object[] args = new Object[components.length];
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                RecordComponent c = components[i];
                types[i] = c.getType();
                args[i] = fromJson(fields.get(c.getName()), c.getGenericType(), path + "." + c.getName());
            }
            try {
                Constructor<?> ctor = raw.getDeclaredConstructor(types);
                ctor.setAccessible(true);
                return ctor.newInstance(args);
            } catch (InvocationTargetException e) {
                throw new IllegalArgumentException(path + ": the constructor of " + raw.getSimpleName() + " refused the values: "
                    + e.getCause(), e.getCause());
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalArgumentException(path + ": cannot construct " + raw.getName() + ": " + e, e);
            }
        }
        if (Map.class.isAssignableFrom(raw)) {
            Map<?, ?> in = expect(v, Map.class, path);
            Map<String, Object> out = new LinkedHashMap<>();
            Type valueType = typeArgument(t, 1);
            in.forEach((k, x) -> out.put((String) k, fromJson(x, valueType, path + "." + k)));
            return out;
        }
        if (Collection.class.isAssignableFrom(raw) || raw == Iterable.class) {
            List<?> in = expect(v, List.class, path);
            Collection<Object> out = Set.class.isAssignableFrom(raw) ? new LinkedHashSet<>() : new ArrayList<>();
            Type elementType = typeArgument(t, 0);
            for (int i = 0; i < in.size(); i++) {
                out.add(fromJson(in.get(i), elementType, path + "[" + i + "]"));
            }
            return out;
        }
        throw new IllegalArgumentException(path + ": cannot map " + t.getTypeName());
    }

    private static <X> X expect(Object v, Class<X> type, String path) {
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException(path + ": expected " + describe(type) + ", got " + Json.write(v));
        }
        return type.cast(v);
    }

    private static String describe(Class<?> type) {
        if (type == Map.class) {
            return "an object";
        }
        if (type == List.class) {
            return "an array";
        }
        if (type == Number.class) {
            return "a number";
        }
        return type == Boolean.class ? "a boolean" : "a string";
    }

    private static Object number(Number n, Class<?> raw, String path) {
        boolean integral = n instanceof Long;
        if (raw == long.class || raw == Long.class) {
            return integral(n, integral, path);
        }
        if (raw == int.class || raw == Integer.class) {
            return Math.toIntExact(fits(integral(n, integral, path), Integer.MIN_VALUE, Integer.MAX_VALUE, path));
        }
        if (raw == short.class || raw == Short.class) {
            return (short) fits(integral(n, integral, path), Short.MIN_VALUE, Short.MAX_VALUE, path);
        }
        if (raw == byte.class || raw == Byte.class) {
            return (byte) fits(integral(n, integral, path), Byte.MIN_VALUE, Byte.MAX_VALUE, path);
        }
        if (raw == double.class || raw == Double.class) {
            return n.doubleValue();
        }
        if (raw == float.class || raw == Float.class) {
            return n.floatValue();
        }
        if (raw == BigDecimal.class) {
            return integral ? BigDecimal.valueOf(n.longValue()) : new BigDecimal(n.toString());
        }
        if (raw == BigInteger.class) {
            return BigInteger.valueOf(integral(n, integral, path));
        }
        return n;   // Number itself
    }

    private static long integral(Number n, boolean integral, String path) {
        if (!integral) {
            throw new IllegalArgumentException(path + ": expected a whole number, got " + n);
        }
        return n.longValue();
    }

    private static long fits(long v, long min, long max, String path) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(path + ": " + v + " is out of range");
        }
        return v;
    }

    private static Object zero(Class<?> primitive) {
        if (primitive == boolean.class) {
            return false;
        }
        if (primitive == char.class) {
            return '\0';
        }
        if (primitive == double.class) {
            return 0.0;
        }
        if (primitive == float.class) {
            return 0.0f;
        }
        if (primitive == long.class) {
            return 0L;
        }
        if (primitive == int.class) {
            return 0;
        }
        return primitive == short.class ? (Object) (short) 0 : (Object) (byte) 0;
    }

    private static Class<?> raw(Type t) {
        if (t instanceof Class<?> c) {
            return c;
        }
        if (t instanceof ParameterizedType p) {
            return (Class<?>) p.getRawType();
        }
        if (t instanceof WildcardType w) {
            return raw(w.getUpperBounds()[0]);
        }
        if (t instanceof GenericArrayType) {
            throw new IllegalArgumentException("arrays are not supported (use a List): " + t.getTypeName());
        }
        return Object.class;   // a type variable: read as JSON's own types
    }

    /** The i-th type argument of a parameterized type, or Object when the type is raw. */
    private static Type typeArgument(Type t, int i) {
        return t instanceof ParameterizedType p && p.getActualTypeArguments().length > i ? p.getActualTypeArguments()[i] : Object.class;
    }
}
