package io.shmkit.alloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny fluent check that an exception message mentions what it should. */
final class MessageAssert {

    private final String message;

    private MessageAssert(String message) {
        this.message = message;
    }

    static MessageAssert assertThat(String message) {
        return new MessageAssert(message);
    }

    MessageAssert contains(String part) {
        assertTrue(message != null && message.contains(part), "message '" + message + "' lacks '" + part + "'");
        return this;
    }
}
