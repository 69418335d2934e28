package exit137.es;

import com.carrotsearch.randomizedtesting.RandomizedRunner;
import com.carrotsearch.randomizedtesting.annotations.ThreadLeakScope;
import com.carrotsearch.randomizedtesting.annotations.TimeoutSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.MockNode;
import org.elasticsearch.transport.netty4.Netty4Plugin;
import org.junit.Test;
import org.junit.runner.RunWith;

/**
 * Starts one Elasticsearch node with HTTP on es.http.port and runs until killed. MockNode needs a
 * randomized-testing context, so the node runs as a JUnit test under RandomizedRunner.
 */
@RunWith(RandomizedRunner.class)
@ThreadLeakScope(ThreadLeakScope.Scope.NONE)
@TimeoutSuite(millis = Integer.MAX_VALUE)
public class NodeRunner {
  @Test(timeout = Integer.MAX_VALUE)
  public void run() throws Exception {
    // es.home keeps the data across a stop and a start (the fault tests take the node away and back)
    String keep = System.getProperty("es.home");
    Path home = keep != null ? Files.createDirectories(Path.of(keep)) : Files.createTempDirectory("exit137-es-home");
    Settings settings = Settings.builder()
        .put("path.home", home.toString())
        .put("cluster.name", "exit137-test")
        .put("node.name", "exit137-es-1")
        .put("http.host", "127.0.0.1")
        .put("transport.host", "127.0.0.1")
        .put("http.port", System.getProperty("es.http.port", "9250"))
        .put("discovery.type", "single-node")
        .put("transport.type", "netty4")
        .put("http.type", "netty4")
        .build();
    MockNode node = new MockNode(settings, List.of(Netty4Plugin.class));
    node.start();
    System.out.println("exit137-es: started");
    Thread.currentThread().join();
  }
}
