package io.weir.bench.sidebyside;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes one scenario's results: a markdown table per case and client (median, min–max per broker,
 * Weir/Kafka ratio of the medians) and two PNG charts (throughput, latency percentiles).
 */
final class Report {
    private final Scenario scenario;
    private final List<Measurement> results;
    private final List<String> brokers;
    private final String command;
    private final List<String> notes;
    private final Map<String, Long> peakRss;
    private final String heapOpts;
    private final Map<Measurement, List<double[]>> curves;

    Report(Scenario scenario, List<Measurement> results, List<String> brokers, String command, List<String> notes,
           Map<String, Long> peakRss, String heapOpts, Map<Measurement, List<double[]>> curves) {
        this.curves = curves;
        this.scenario = scenario;
        this.results = results;
        this.brokers = brokers;
        this.command = command;
        this.notes = notes;
        this.peakRss = peakRss;
        this.heapOpts = heapOpts;
    }

    Path write(Path dir, String stamp) throws IOException {
        String base = scenario.name() + "-" + stamp;
        StringBuilder md = new StringBuilder();
        md.append("# ").append(scenario.name()).append("\n\n");
        if (!scenario.description().isEmpty()) {
            md.append(scenario.description()).append("\n\n");
        }
        int rounds = (int) results.stream().mapToInt(Measurement::round).distinct().count();
        md.append(String.format(Locale.ROOT, "%s, %d cores, JDK %s, %s. Command: `%s`. %d round(s), brokers alternating "
                + "which runs first; brokers' heap `%s`, default flush settings (no fsync per write), log dirs under one temp dir.%n%n",
            LocalDateTime.now().withNano(0), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
            loadAverage(), command, rounds, heapOpts));
        md.append("Each cell: median (min–max) over the rounds. Weir/Kafka is the ratio of the medians; ")
            .append("↑ higher is better, ↓ lower is better.\n\n");
        for (String note : notes) {
            md.append("- ").append(note).append('\n');
        }
        if (!peakRss.isEmpty()) {
            md.append("- Peak broker RSS (VmHWM) at the end of this scenario: ");
            List<String> parts = new ArrayList<>();
            peakRss.forEach((b, v) -> parts.add(b + " " + (v >> 20) + " MB"));
            md.append(String.join(", ", parts)).append("\n");
        }
        md.append('\n');

        Set<String> cases = new LinkedHashSet<>();
        Set<String> clients = new LinkedHashSet<>();
        results.forEach(m -> {
            cases.add(m.caseLabel());
            clients.add(m.client());
        });
        String weir = "Weir";
        String kafka = "Kafka";
        for (String c : cases) {
            for (String client : clients) {
                md.append("## ").append(c).append(" — client ").append(client).append("\n\n");
                md.append("| figure |");
                for (String b : brokers) {
                    md.append(' ').append(b).append(" |");
                }
                boolean ratio = brokers.contains(weir) && brokers.contains(kafka);
                md.append(ratio ? " Weir/Kafka |\n" : "\n");
                md.append("|---|").append("---:|".repeat(brokers.size())).append(ratio ? "---:|\n" : "\n");
                for (String figure : figures(c, client)) {
                    md.append("| ").append(figure).append(neutral(figure) ? "" : lowerIsBetter(figure) ? " ↓" : " ↑").append(" |");
                    for (String b : brokers) {
                        List<Double> v = values(c, b, client, figure);
                        md.append(' ').append(v.isEmpty() ? "–" : fmt(median(v)) + " (" + fmt(Collections.min(v)) + "–"
                            + fmt(Collections.max(v)) + ")").append(" |");
                    }
                    if (ratio) {
                        List<Double> w = values(c, weir, client, figure);
                        List<Double> k = values(c, kafka, client, figure);
                        double r = w.isEmpty() || k.isEmpty() || median(k) == 0 ? Double.NaN : median(w) / median(k);
                        md.append(' ').append(Double.isNaN(r) ? "–" : String.format(Locale.ROOT, "**%.2f**", r)).append(" |");
                    }
                    md.append('\n');
                }
                md.append('\n');
            }
        }
        transactionCost(md, clients);
        Path throughputPng = dir.resolve(base + "-throughput.png");
        Path latencyPng = dir.resolve(base + "-latency.png");
        if (throughputChart(cases, clients, throughputPng)) {
            md.append("![throughput](").append(throughputPng.getFileName()).append(")\n\n");
        }
        if (latencyChart(cases, clients, latencyPng)) {
            md.append("![latency](").append(latencyPng.getFileName()).append(")\n");
        }
        Path curvePng = dir.resolve(base + "-latency-curve.png");
        if (percentileCurveChart(curvePng)) {
            md.append("\n![latency by percentile](").append(curvePng.getFileName()).append(")\n");
        }
        Path file = dir.resolve(base + ".md");
        Files.writeString(file, md);
        return file;
    }

    /**
     * For each transactional case with a non-transactional twin in the scenario: per broker, the
     * transactional run's produce records/s over its twin's (medians over the rounds), and the cost
     * (1 − ratio), so each broker's price of transactions comes from the same run.
     */
    private void transactionCost(StringBuilder md, Set<String> clients) {
        List<String> rows = new ArrayList<>();
        for (Scenario.Case c : scenario.cases()) {
            if (!c.transactional()) {
                continue;
            }
            Scenario.Case twin = scenario.nonTransactionalTwin(c).orElse(null);
            if (twin == null) {
                continue;
            }
            for (String client : clients) {
                StringBuilder row = new StringBuilder("| ").append(shortLabel(c.label())).append(" vs ")
                    .append(shortLabel(twin.label())).append(" | ").append(client).append(" |");
                for (String b : brokers) {
                    List<Double> txn = values(c.label(), b, client, "produce records/s");
                    List<Double> plain = values(twin.label(), b, client, "produce records/s");
                    if (txn.isEmpty() || plain.isEmpty() || median(plain) == 0) {
                        row.append(" – |");
                    } else {
                        double r = median(txn) / median(plain);
                        row.append(String.format(Locale.ROOT, " **%.3f** (cost %.1f%%) |", r, 100 * (1 - r)));
                    }
                }
                rows.add(row.toString());
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        md.append("## Transactional / non-transactional produce records/s\n\n")
            .append("Per broker, the median of the transactional case over the median of its twin without transactions ")
            .append("(same settings otherwise, same invocation); cost = 1 − ratio.\n\n| cases | client |");
        for (String b : brokers) {
            md.append(' ').append(b).append(" |");
        }
        md.append("\n|---|---|").append("---:|".repeat(brokers.size())).append('\n');
        rows.forEach(r -> md.append(r).append('\n'));
        md.append('\n');
    }

    private List<String> figures(String caseLabel, String client) {
        Set<String> names = new LinkedHashSet<>();
        results.stream().filter(m -> m.caseLabel().equals(caseLabel) && m.client().equals(client))
            .forEach(m -> names.addAll(m.figures().keySet()));
        return new ArrayList<>(names);
    }

    private List<Double> values(String caseLabel, String broker, String client, String figure) {
        List<Double> out = new ArrayList<>();
        for (Measurement m : results) {
            if (m.caseLabel().equals(caseLabel) && m.broker().equals(broker) && m.client().equals(client)) {
                Double v = m.figures().get(figure);
                if (v != null) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    /** A figure that describes the run rather than scores it (records per transaction, a state's size, outputs). */
    static boolean neutral(String figure) {
        return figure.endsWith("/transaction") || figure.startsWith("state dir") || figure.equals("output records");
    }

    static boolean lowerIsBetter(String figure) {
        return figure.endsWith(" ms") || figure.contains("RSS") || figure.contains("CPU") || figure.startsWith("failover ");
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static String fmt(double v) {
        if (Math.abs(v) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split("\\s+");
            return "load average " + parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "load average unknown";
        }
    }

    private String shortLabel(String caseLabel) {
        String s = caseLabel.startsWith(scenario.name()) ? caseLabel.substring(scenario.name().length()).trim() : caseLabel;
        return s.isEmpty() ? scenario.name() : s;
    }

    private boolean throughputChart(Set<String> cases, Set<String> clients, Path png) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(500)
            .title(scenario.name() + ": throughput (median)").xAxisTitle("case").yAxisTitle("MB/s").build();
        style(chart);
        boolean any = false;
        for (String kind : List.of("produce MB/s", "consume MB/s")) {
            for (String client : clients) {
                for (String b : brokers) {
                    List<String> x = new ArrayList<>();
                    List<Double> y = new ArrayList<>();
                    for (String c : cases) {
                        List<Double> v = values(c, b, client, kind);
                        if (!v.isEmpty()) {
                            x.add(shortLabel(c));
                            y.add(median(v));
                        }
                    }
                    if (!x.isEmpty()) {
                        chart.addSeries(b + " " + kind.split(" ")[0] + (clients.size() > 1 ? " (" + client + ")" : ""), x, y);
                        any = true;
                    }
                }
            }
        }
        if (any) {
            BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        }
        return any;
    }

    private boolean latencyChart(Set<String> cases, Set<String> clients, Path png) throws IOException {
        String prefix = results.stream().anyMatch(m -> m.figures().containsKey("e2e p99 ms")) ? "e2e " : "produce ";
        List<String> percentiles = prefix.equals("e2e ") ? List.of("p50", "p90", "p99", "p99.9") : List.of("p50", "p95", "p99", "p99.9");
        if (cases.size() > 2) {
            percentiles = List.of("p50", "p99");
        }
        CategoryChart chart = new CategoryChartBuilder().width(900).height(500)
            .title(scenario.name() + ": " + prefix.trim() + " latency (median of rounds)").xAxisTitle("case / percentile")
            .yAxisTitle("ms").build();
        style(chart);
        boolean any = false;
        for (String client : clients) {
            for (String b : brokers) {
                List<String> x = new ArrayList<>();
                List<Double> y = new ArrayList<>();
                for (String c : cases) {
                    for (String p : percentiles) {
                        List<Double> v = values(c, b, client, prefix + p + " ms");
                        if (!v.isEmpty()) {
                            x.add((cases.size() > 1 ? shortLabel(c) + " " : "") + p);
                            y.add(median(v));
                        }
                    }
                }
                if (!x.isEmpty()) {
                    chart.addSeries(b + (clients.size() > 1 ? " (" + client + ")" : ""), x, y);
                    any = true;
                }
            }
        }
        if (any) {
            BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        }
        return any;
    }

    /**
     * The e2e latency by percentile, HdrHistogram style: x is log10(1/(1-percentile)) (so 90%, 99%,
     * 99.9% and 99.99% are evenly spaced), y the latency in ms; one line per case, broker and
     * client, from the round whose p99 was the median of its rounds.
     */
    private boolean percentileCurveChart(Path png) throws IOException {
        if (curves.isEmpty()) {
            return false;
        }
        XYChart chart = new XYChartBuilder().width(900).height(500)
            .title(scenario.name() + ": end-to-end latency by percentile (median-p99 round)")
            .xAxisTitle("percentile").yAxisTitle("ms").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setMarkerSize(0);
        // x = log10(1/(1-p)) on a linear axis: 1 is 90%, 2 is 99%, 3 is 99.9% (a log axis with a custom
        // formatter makes XChart format millions of candidate ticks)
        chart.setCustomXAxisTickLabelsFormatter(Report::percentileLabel);
        Map<String, List<Measurement>> byLine = new java.util.LinkedHashMap<>();
        for (Measurement m : results) {
            if (curves.containsKey(m)) {
                Set<String> cases = new LinkedHashSet<>();
                results.forEach(r -> cases.add(r.caseLabel()));
                String line = m.broker() + (cases.size() > 1 ? " " + shortLabel(m.caseLabel()) : "")
                    + (results.stream().map(Measurement::client).distinct().count() > 1 ? " (" + m.client() + ")" : "");
                byLine.computeIfAbsent(line, k -> new ArrayList<>()).add(m);
            }
        }
        for (Map.Entry<String, List<Measurement>> e : byLine.entrySet()) {
            List<Measurement> runs = new ArrayList<>(e.getValue());
            runs.sort(java.util.Comparator.comparingDouble(m -> m.figures().getOrDefault("e2e p99 ms", 0.0)));
            List<double[]> points = curves.get(runs.get((runs.size() - 1) / 2));
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (double[] p : points) {
                x.add(Math.log10(1 / (1 - p[1])));
                y.add(p[0]);
            }
            chart.addSeries(e.getKey(), x, y);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return true;
    }

    /** The tick label of x = log10(1/(1-p)): the percentile p, with as many decimals as its nines need. */
    static String percentileLabel(double x) {
        if (x < 0 || x > 12) {
            return "";
        }
        double p = 100 * (1 - Math.pow(10, -x));
        int decimals = (int) Math.max(0, Math.min(6, Math.ceil(x - 1e-9) - 2));
        return String.format(Locale.ROOT, "%." + decimals + "f%%", p);
    }

    private static void style(CategoryChart chart) {
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    }
}
