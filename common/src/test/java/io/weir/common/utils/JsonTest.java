package io.weir.common.utils;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The small JSON reader and writer (tools documents, znodes). */
class JsonTest {
    @Test
    void shouldParseWhatKafkasToolsRead() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, true, false, null], \"b\": {\"c\": \"x\\\"y\\\\z\\n\\u0041\"}, \"e\": []} ");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a", Arrays.asList(1L, -2L, 3.5, true, false, null));
        expected.put("b", Map.of("c", "x\"y\\z\nA"));
        expected.put("e", List.of());
        assertEquals(expected, v);
    }

    @Test
    void shouldWriteCompactJsonThatParsesBack() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "q\"\\\t\u0001");
        m.put("n", 5L);
        m.put("l", Arrays.asList(true, null, Map.of()));
        String text = Json.write(m);
        assertEquals("{\"s\":\"q\\\"\\\\\\t\\u0001\",\"n\":5,\"l\":[true,null,{}]}", text);
        assertEquals(m, Json.parse(text));
    }

    @Test
    void shouldRefuseMalformedTextNamingThePosition() {
        for (String bad : List.of("", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "{} x", "{\"a\":01x}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertEquals(true, e.getMessage().startsWith("malformed JSON at position"), e.getMessage());
        }
    }

    @Test
    void shouldWriteAndReadBackTheZnodeShapes() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("controller_epoch", 3);
        state.put("leader", 1);
        state.put("isr", List.of(1, 2));
        state.put("rack", null);
        state.put("name", "a \"quoted\"\\ name\n\u0001");
        state.put("ok", true);
        byte[] bytes = Json.writeBytes(state);
        assertEquals("{\"controller_epoch\":3,\"leader\":1,\"isr\":[1,2],\"rack\":null,"
            + "\"name\":\"a \\\"quoted\\\"\\\\ name\\n\\u0001\",\"ok\":true}",
            new String(bytes, StandardCharsets.UTF_8));
        Map<String, Object> back = Json.parseObject(bytes);
        assertEquals(3, Json.intField(back, "controller_epoch", -1));
        assertEquals(List.of(1, 2), Json.intList(back.get("isr")));
        assertEquals(state.get("name"), back.get("name"));
        assertEquals(Boolean.TRUE, back.get("ok"));
        assertEquals(-7, Json.intField(back, "missing", -7));
    }

    @Test
    void shouldReadKafkasRegistrationWithWhitespace() {
        Map<String, Object> o = Json.parseObject((" { \"version\" : 5 , \"host\":\"h\", \"port\": 9092,"
            + " \"endpoints\": [ \"PLAINTEXT://h:9092\" ], \"rack\": null } ").getBytes(StandardCharsets.UTF_8));
        assertEquals("h", o.get("host"));
        assertEquals(9092, Json.intField(o, "port", -1));
        assertEquals(List.of("PLAINTEXT://h:9092"), o.get("endpoints"));
    }
}
