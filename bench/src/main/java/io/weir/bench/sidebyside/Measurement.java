package io.weir.bench.sidebyside;

import java.util.Map;

/** The figures of one run of one case against one broker with one client. */
public record Measurement(String caseLabel, String broker, String client, int round, Map<String, Double> figures) {
}
