package dev.quantforge.quant.progress;

/** Where engine work writes the lines a user reads afterwards (a job's log); one line per call. */
@FunctionalInterface
public interface EngineLog {

    EngineLog NONE = message -> { };

    void log(String message);
}
