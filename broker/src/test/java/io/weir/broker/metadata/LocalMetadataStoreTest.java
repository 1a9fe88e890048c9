package io.weir.broker.metadata;

import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalMetadataStoreTest {
    private final Path logDir = TempDirs.create("metadata-store");

    @AfterEach
    void cleanUp() {
        TempDirs.delete(logDir);
    }

    @Test
    void shouldKeepTopicsAcrossReopen() {
        LocalMetadataStore store = new LocalMetadataStore(logDir, null);
        UUID id = UUID.randomUUID();
        assertTrue(store.createTopic(new TopicMetadata("orders", id, 3, (short) 1, Map.of("retention.ms", "1000"))));
        store.close();
        LocalMetadataStore again = new LocalMetadataStore(logDir, null);
        TopicMetadata t = again.topics().get("orders");
        assertEquals(id, t.topicId());
        assertEquals(3, t.partitionCount());
        assertEquals("1000", t.configs().get("retention.ms"));
        assertEquals(store.clusterId(), again.clusterId());
        again.close();
    }

    @Test
    void shouldRefuseToStartOnADamagedTopicFileNamingItAndHowToRepair() throws Exception {
        LocalMetadataStore store = new LocalMetadataStore(logDir, null);
        store.createTopic(new TopicMetadata("orders", UUID.randomUUID(), 3, (short) 1, Map.of()));
        store.close();
        Path file = logDir.resolve(LocalMetadataStore.DIR_NAME).resolve("topics").resolve("orders.properties");
        assertTrue(Files.exists(file), "the topic's file: " + file);
        for (String damaged : new String[] {"name=orders\ntopic.id=not-a-uuid\npartitions=3\nreplication.factor=1\n",
            "name=orders\\u12", "partitions=x"}) {
            Files.writeString(file, damaged, StandardCharsets.UTF_8);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new LocalMetadataStore(logDir, null));
            assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("To repair"), e.getMessage());
            assertTrue(e.getMessage().contains("orders-<partition>") || e.getMessage().contains("<topic>-<partition>"),
                e.getMessage());
        }
    }

    @Test
    void shouldNameTheStoredClusterIdOnAMismatch() {
        LocalMetadataStore store = new LocalMetadataStore(logDir, "cluster-a");
        store.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> new LocalMetadataStore(logDir, "cluster-b"));
        assertTrue(e.getMessage().contains("cluster.id=cluster-a"), e.getMessage());
    }
}
