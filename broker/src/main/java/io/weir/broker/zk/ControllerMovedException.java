package io.weir.broker.zk;

/** A controller write failed its epoch check: another broker was elected since this term began. */
public final class ControllerMovedException extends io.weir.broker.server.TopicController.NotControllerException {
    public ControllerMovedException(String message) {
        super(message);
    }
}
