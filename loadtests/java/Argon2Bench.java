// Hashes per second of Keycloak's Argon2 (the BouncyCastle jar Keycloak ships), on N threads.
// Run by loadtests/bench.py as a single-file program: java -cp bcprov.jar Argon2Bench.java THREADS SECONDS ITERATIONS MEMORY_KIB
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import java.util.concurrent.atomic.AtomicLong;

public class Argon2Bench {
    static void hash(int iterations, int memory, byte[] salt) {
        Argon2Parameters p = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13).withSalt(salt).withParallelism(1)
            .withMemoryAsKB(memory).withIterations(iterations).build();
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(p);
        byte[] out = new byte[32];
        g.generateBytes("a-password-of-24-chars!!".toCharArray(), out);
    }

    static long run(int threads, double seconds, int iterations, int memory) throws Exception {
        AtomicLong count = new AtomicLong();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        Thread[] pool = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            pool[t] = new Thread(() -> {
                byte[] salt = new byte[16];
                while (System.nanoTime() < end) { hash(iterations, memory, salt); count.incrementAndGet(); }
            });
            pool[t].start();
        }
        for (Thread t : pool) t.join();
        return count.get();
    }

    public static void main(String[] a) throws Exception {
        int threads = Integer.parseInt(a[0]);
        double seconds = Double.parseDouble(a[1]);
        int iterations = Integer.parseInt(a[2]);
        int memory = Integer.parseInt(a[3]);
        run(threads, 3, iterations, memory);  // JIT warm-up
        long n = run(threads, seconds, iterations, memory);
        System.out.println(n / seconds);
    }
}
