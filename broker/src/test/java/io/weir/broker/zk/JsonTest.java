package io.weir.broker.zk;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {
    @Test
    void shouldWriteAndReadBackTheZnodeShapes() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("controller_epoch", 3);
        state.put("leader", 1);
        state.put("isr", List.of(1, 2));
        state.put("rack", null);
        state.put("name", "a \"quoted\"\\ name\n\u0001");
        state.put("ok", true);
        byte[] bytes = Json.write(state);
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

    @Test
    void shouldRejectMalformedInputNamingThePosition() {
        for (String bad : new String[] {"{\"a\":}", "[1,2", "{\"a\" 1}", "\"open", "{} x", "-"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.parse(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertEquals(true, e.getMessage().startsWith("bad JSON at "), e.getMessage());
        }
    }
}
