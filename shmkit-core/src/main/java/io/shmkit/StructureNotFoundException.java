package io.shmkit;

/**
 * The segment exists but its directory records no structure of the requested name (open of a
 * named allocator or registry that was never created, or was removed).
 */
public final class StructureNotFoundException extends ShmException {

    private static final long serialVersionUID = 1L;

    public StructureNotFoundException(String message) {
        super(message);
    }
}
