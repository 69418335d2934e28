package exit137.es;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * Starts one Elasticsearch node with HTTP on es.http.port and runs until killed: a production
 * node (no test framework, no randomized runner, no assertions), with Netty's HTTP transport
 * from the classpath.
 */
public class NodeRunner {
  public static void main(String[] args) throws Exception {
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
    // warnings and errors only, as a node's default log4j2.properties would at the root
    LogConfigurator.configureESLogging();
    LogConfigurator.configureWithoutConfig(Settings.builder().put("logger.level", "WARN").build());
    ClasspathNode node = new ClasspathNode(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "exit137-es-1"), List.of(Netty4Plugin.class));
    node.start();
    System.out.println("exit137-es: started");
    Thread.currentThread().join();
  }
}
