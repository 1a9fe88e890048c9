package io.weir.tools;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The tools' small JSON reader and writer. */
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
}
