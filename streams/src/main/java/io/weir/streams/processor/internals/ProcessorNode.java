package io.weir.streams.processor.internals;

import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.api.Record;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A node of a task's graph: gets records from its parents and forwards to its children in order. */
public abstract class ProcessorNode {
    private final String name;
    private final List<ProcessorNode> children = new ArrayList<>();
    private final Map<String, ProcessorNode> childByName = new HashMap<>();

    ProcessorNode(String name) {
        this.name = name;
    }

    public final String name() {
        return name;
    }

    public final List<ProcessorNode> children() {
        return children;
    }

    final void addChild(ProcessorNode child) {
        children.add(child);
        childByName.put(child.name(), child);
    }

    /** Opens the node for its task (after the task's stores are open). */
    void init(StreamTask task) {
    }

    abstract void process(Record<Object, Object> record);

    void close() {
    }

    final void forward(Record<Object, Object> record) {
        for (ProcessorNode child : children) {
            child.process(record);
        }
    }

    final void forward(Record<Object, Object> record, String childName) {
        ProcessorNode child = childByName.get(childName);
        if (child == null) {
            throw new StreamsException("node " + name + " has no child named " + childName + " (children: "
                + childByName.keySet() + ")");
        }
        child.process(record);
    }

    @Override
    public String toString() {
        return name;
    }
}
