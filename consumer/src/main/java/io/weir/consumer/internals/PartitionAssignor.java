package io.weir.consumer.internals;

import io.weir.consumer.ConsumerProtocol;
import io.weir.common.TopicPartition;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A group assignor: run by the elected leader to split the partitions of the members' topics among
 * them. Names are Kafka's protocol names, so members of Weir and Kafka consumers agree on them.
 * Implementations are stateless and thread-safe.
 */
public interface PartitionAssignor {
    /** Eager: every member gives up everything before a rebalance. Cooperative: only what moves. */
    enum RebalanceProtocol { EAGER, COOPERATIVE }

    String name();

    List<RebalanceProtocol> supportedProtocols();

    /** The userData of this member's subscription, or null. */
    default ByteBuffer subscriptionUserData(int generation) {
        return null;
    }

    /**
     * The partitions of each member (every member id gets an entry).
     *
     * @param partitionsPerTopic partition counts of every topic some member subscribes to (topics
     *                           missing here are unknown and get no partitions)
     */
    Map<String, List<TopicPartition>> assign(Map<String, Integer> partitionsPerTopic,
                                             Map<String, ConsumerProtocol.Subscription> subscriptions);

    /**
     * The assignment of each member with its userData: what the leader sends in SyncGroup. The default
     * wraps {@link #assign} with no userData; an assignor that tells members more than their partitions
     * (the streams assignor: tasks, standbys, which host holds which partitions) overrides this.
     */
    default Map<String, ConsumerProtocol.Assignment> assignWithUserData(Map<String, Integer> partitionsPerTopic,
                                                                       Map<String, ConsumerProtocol.Subscription> subscriptions) {
        Map<String, ConsumerProtocol.Assignment> out = new LinkedHashMap<>();
        assign(partitionsPerTopic, subscriptions).forEach((m, parts) -> out.put(m, new ConsumerProtocol.Assignment(parts, null)));
        return out;
    }

    /**
     * Told of this member's assignment (with its userData) when a rebalance completes, on the polling
     * thread, before the rebalance listener hears of the partitions.
     */
    default void onAssignment(ConsumerProtocol.Assignment assignment, int generation) {
    }

    static PartitionAssignor forName(String name) {
        return switch (name) {
            case "range" -> new Range();
            case "roundrobin" -> new RoundRobin();
            case "cooperative-sticky" -> new CooperativeSticky();
            default -> throw new IllegalArgumentException("unknown assignor " + name);
        };
    }

    private static Map<String, List<TopicPartition>> emptyAssignment(Map<String, ConsumerProtocol.Subscription> subs) {
        Map<String, List<TopicPartition>> out = new TreeMap<>();
        for (String m : subs.keySet()) {
            out.put(m, new ArrayList<>());
        }
        return out;
    }

    /**
     * Kafka's "range": per topic, the subscribed members in member-id order get consecutive ranges;
     * the first (partitions % members) get one extra.
     */
    final class Range implements PartitionAssignor {
        @Override
        public String name() {
            return "range";
        }

        @Override
        public List<RebalanceProtocol> supportedProtocols() {
            return List.of(RebalanceProtocol.EAGER);
        }

        @Override
        public Map<String, List<TopicPartition>> assign(Map<String, Integer> partitionsPerTopic,
                                                        Map<String, ConsumerProtocol.Subscription> subscriptions) {
            Map<String, List<TopicPartition>> out = emptyAssignment(subscriptions);
            Map<String, List<String>> membersPerTopic = new TreeMap<>();
            for (Map.Entry<String, ConsumerProtocol.Subscription> e : new TreeMap<>(subscriptions).entrySet()) {
                for (String t : new HashSet<>(e.getValue().topics())) {
                    membersPerTopic.computeIfAbsent(t, k -> new ArrayList<>()).add(e.getKey());
                }
            }
            for (Map.Entry<String, List<String>> e : membersPerTopic.entrySet()) {
                Integer n = partitionsPerTopic.get(e.getKey());
                if (n == null) {
                    continue;
                }
                List<String> members = e.getValue();
                int per = n / members.size();
                int extra = n % members.size();
                for (int i = 0; i < members.size(); i++) {
                    int start = per * i + Math.min(i, extra);
                    int len = per + (i < extra ? 1 : 0);
                    for (int p = start; p < start + len; p++) {
                        out.get(members.get(i)).add(new TopicPartition(e.getKey(), p));
                    }
                }
            }
            return out;
        }
    }

    /** Kafka's "roundrobin": all partitions in (topic, partition) order dealt to members in id order. */
    final class RoundRobin implements PartitionAssignor {
        @Override
        public String name() {
            return "roundrobin";
        }

        @Override
        public List<RebalanceProtocol> supportedProtocols() {
            return List.of(RebalanceProtocol.EAGER);
        }

        @Override
        public Map<String, List<TopicPartition>> assign(Map<String, Integer> partitionsPerTopic,
                                                        Map<String, ConsumerProtocol.Subscription> subscriptions) {
            Map<String, List<TopicPartition>> out = emptyAssignment(subscriptions);
            List<String> members = new ArrayList<>(out.keySet());
            if (members.isEmpty()) {
                return out;
            }
            Set<String> topics = new java.util.TreeSet<>();
            subscriptions.values().forEach(s -> topics.addAll(s.topics()));
            int next = 0;
            for (String t : topics) {
                Integer n = partitionsPerTopic.get(t);
                if (n == null) {
                    continue;
                }
                for (int p = 0; p < n; p++) {
                    for (int tries = 0; tries < members.size(); tries++) {
                        String m = members.get(next % members.size());
                        next++;
                        if (subscriptions.get(m).topics().contains(t)) {
                            out.get(m).add(new TopicPartition(t, p));
                            break;
                        }
                    }
                }
            }
            return out;
        }
    }

    /**
     * Kafka's "cooperative-sticky" protocol name with Weir's own balancing: members keep what they
     * validly own (the newest generation wins a conflicting claim) up to a balanced quota, the rest
     * goes to the least loaded eligible member. A partition that moves from one live member to
     * another is left out of this round (its old owner revokes it and rejoins, and the next round
     * hands it over), which is what makes the rebalance incremental.
     */
    final class CooperativeSticky implements PartitionAssignor {
        @Override
        public String name() {
            return "cooperative-sticky";
        }

        @Override
        public List<RebalanceProtocol> supportedProtocols() {
            return List.of(RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER);
        }

        /** Kafka's CooperativeStickyAssignor userData: the member's generation as an int32. */
        @Override
        public ByteBuffer subscriptionUserData(int generation) {
            ByteBuffer b = ByteBuffer.allocate(4).putInt(generation);
            b.flip();
            return b;
        }

        private static int generationOf(ConsumerProtocol.Subscription s) {
            if (s.generationId() >= 0) {
                return s.generationId();
            }
            if (s.userData() != null && s.userData().remaining() >= 4) {
                return s.userData().getInt(s.userData().position());
            }
            return -1;
        }

        @Override
        public Map<String, List<TopicPartition>> assign(Map<String, Integer> partitionsPerTopic,
                                                        Map<String, ConsumerProtocol.Subscription> subscriptions) {
            Map<String, List<TopicPartition>> out = emptyAssignment(subscriptions);
            List<String> members = new ArrayList<>(out.keySet());
            if (members.isEmpty()) {
                return out;
            }
            List<TopicPartition> all = new ArrayList<>();
            Set<String> topics = new java.util.TreeSet<>();
            subscriptions.values().forEach(s -> topics.addAll(s.topics()));
            for (String t : topics) {
                Integer n = partitionsPerTopic.get(t);
                for (int p = 0; n != null && p < n; p++) {
                    all.add(new TopicPartition(t, p));
                }
            }
            Set<TopicPartition> valid = new HashSet<>(all);
            // previous owners: newest generation first, then member id
            List<String> byGeneration = new ArrayList<>(members);
            byGeneration.sort(Comparator.comparingInt((String m) -> -generationOf(subscriptions.get(m)))
                .thenComparing(m -> m));
            Map<TopicPartition, String> owner = new HashMap<>();
            Map<TopicPartition, Integer> ownerGeneration = new HashMap<>();
            for (String m : byGeneration) {
                ConsumerProtocol.Subscription s = subscriptions.get(m);
                int gen = generationOf(s);
                for (TopicPartition tp : s.ownedPartitions()) {
                    if (!valid.contains(tp) || !s.topics().contains(tp.topic())) {
                        continue;
                    }
                    Integer g = ownerGeneration.get(tp);
                    if (g == null) {
                        owner.put(tp, m);
                        ownerGeneration.put(tp, gen);
                    } else if (g == gen && !owner.get(tp).equals(m)) {
                        owner.put(tp, null); // two claims at one generation: neither is trusted
                    }
                }
            }
            int total = all.size();
            int minQuota = total / members.size();
            int withExtra = total % members.size();
            // keep owned partitions up to the quota; only `withExtra` members may keep minQuota + 1
            Map<String, List<TopicPartition>> ownedBy = new TreeMap<>();
            for (TopicPartition tp : all) {
                String m = owner.get(tp);
                if (m != null) {
                    ownedBy.computeIfAbsent(m, k -> new ArrayList<>()).add(tp);
                }
            }
            Set<TopicPartition> assigned = new HashSet<>();
            List<String> ownersByLoad = new ArrayList<>(ownedBy.keySet());
            ownersByLoad.sort(Comparator.comparingInt((String m) -> -ownedBy.get(m).size()).thenComparing(m -> m));
            int extrasLeft = withExtra;
            for (String m : ownersByLoad) {
                List<TopicPartition> owned = ownedBy.get(m);
                int limit = minQuota;
                if (owned.size() > minQuota && extrasLeft > 0) {
                    limit = minQuota + 1;
                    extrasLeft--;
                }
                for (int i = 0; i < Math.min(limit, owned.size()); i++) {
                    out.get(m).add(owned.get(i));
                    assigned.add(owned.get(i));
                }
            }
            for (TopicPartition tp : all) {
                if (assigned.contains(tp)) {
                    continue;
                }
                String best = null;
                for (String m : members) {
                    if (!subscriptions.get(m).topics().contains(tp.topic())) {
                        continue;
                    }
                    if (best == null || out.get(m).size() < out.get(best).size()) {
                        best = m;
                    }
                }
                if (best != null) {
                    out.get(best).add(tp);
                    assigned.add(tp);
                }
            }
            // a partition still owned by another live member is handed over in the next round
            for (Map.Entry<String, List<TopicPartition>> e : out.entrySet()) {
                e.getValue().removeIf(tp -> {
                    String prev = owner.get(tp);
                    return prev != null && !prev.equals(e.getKey());
                });
            }
            return out;
        }
    }

    /** The union of the members' topics (what the leader needs metadata for). */
    static Set<String> allTopics(Map<String, ConsumerProtocol.Subscription> subscriptions) {
        Set<String> out = new HashSet<>();
        subscriptions.values().forEach(s -> out.addAll(s.topics()));
        return out;
    }

    /** Orders members by id, for deterministic output. */
    static <T> Map<String, T> sorted(Map<String, T> m) {
        return new LinkedHashMap<>(new TreeMap<>(m));
    }
}
