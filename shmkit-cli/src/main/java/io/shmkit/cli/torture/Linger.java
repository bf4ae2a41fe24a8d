package io.shmkit.cli.torture;

import java.util.SplittableRandom;

/** A random wait inside a section or a transaction: a window for a kill to land in. */
final class Linger {
    private Linger() {
    }

    static void briefly(SplittableRandom rnd) throws InterruptedException {
        int spin = rnd.nextInt(2000);
        for (int i = 0; i < spin; i++) {
            Thread.onSpinWait();
        }
        if (rnd.nextInt(8) == 0) {
            Thread.sleep(1);
        }
    }
}
